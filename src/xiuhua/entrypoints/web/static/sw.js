// The field page's service worker: keeps the page shell for a poor connection (API calls always go to
// the network; unsent reports wait as drafts in the page's own storage).
const SHELL = "xiuhua-shell-v1";
const FILES = [
  "field.html", "citizen.html", "css/console.css", "js/api.js", "js/ui.js", "js/labels.js", "js/map.js",
  "js/field.js", "js/citizen.js", "js/drafts.js", "vendor/maplibre-gl.js", "vendor/maplibre-gl.css", "manifest.webmanifest",
  "img/icon.svg",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k)))));
  self.clients.claim();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.pathname.startsWith("/api/")) return;
  // Network first, so a deployed change shows at once; the cached shell when the network fails.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        const copy = response.clone();
        caches.open(SHELL).then((cache) => cache.put(event.request, copy));
        return response;
      })
      .catch(() => caches.match(event.request)),
  );
});
