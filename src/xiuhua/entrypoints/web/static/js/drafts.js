// Reports kept on the device until the server has them: each draft carries its photos (as data URLs)
// and an idempotency key, so sending it twice over a flaky connection files one case.
import { ApiError, api, uploadPhoto } from "./api.js";

const KEY = "xiuhua.drafts";

export function drafts() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "[]");
  } catch {
    return [];
  }
}

function store(list) {
  localStorage.setItem(KEY, JSON.stringify(list));
}

export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export function fileToDataUrl(file) {
  return new Promise((ok, fail) => {
    const reader = new FileReader();
    reader.onload = () => ok(reader.result);
    reader.onerror = () => fail(reader.error);
    reader.readAsDataURL(file);
  });
}

async function dataUrlToFile(url, name) {
  const blob = await (await fetch(url)).blob();
  return new File([blob], name, { type: blob.type });
}

export function keep(draft) {
  store([...drafts().filter((d) => d.key !== draft.key), draft]);
}

export function drop(key) {
  store(drafts().filter((d) => d.key !== key));
}

/** Sends one draft; returns the server's answer, or throws. A refusal (4xx) is kept with its message. */
export async function send(draft) {
  const hashes = [];
  for (const [i, url] of (draft.photos || []).entries()) hashes.push(await uploadPhoto(await dataUrlToFile(url, `photo${i}.jpg`)));
  const done = await api("cases", { method: "POST", body: { ...draft.body, photos: hashes }, headers: { "Idempotency-Key": draft.key } });
  drop(draft.key);
  return done;
}

/** Tries every waiting draft; returns [sent, still waiting]. */
export async function flush() {
  let sent = 0;
  for (const draft of drafts()) {
    try {
      await send(draft);
      sent += 1;
    } catch (error) {
      if (error instanceof ApiError && error.status < 500) keep({ ...draft, error: error.message });
    }
  }
  return [sent, drafts().length];
}
