// MapLibre maps drawn from the city's own layers only (vector tiles from the API): no base map from the
// internet, so the console works offline.
import { session } from "./api.js";
import { STATE_COLORS } from "./labels.js";

export const KAIFENG = [114.33, 34.79];
// Tiles are asked for up to this zoom and drawn over-zoomed beyond it: a z14 tile still holds 1024
// units per z16 tile, and points are no longer clustered from z14 on, so deeper tiles add requests only.
const TILE_MAX_ZOOM = 14;

function expression(value) {
  // Layer styles store a data-driven colour as {property, match: {value: colour}, default}.
  if (value && typeof value === "object" && !Array.isArray(value) && value.property) {
    const pairs = Object.entries(value.match || {}).flat();
    return ["match", ["get", value.property], ...pairs, value.default ?? "#999999"];
  }
  return value;
}

function paintOf(style, prefix) {
  const paint = {};
  for (const [key, value] of Object.entries(style || {})) {
    if (key.startsWith(prefix)) paint[key] = expression(value);
  }
  return paint;
}

function authorise(url) {
  const current = session();
  if (current && url.startsWith(`${location.origin}/api/`)) {
    return { url, headers: { Authorization: `Bearer ${current.access_token}` } };
  }
  return { url };
}

export function newMap(container, { center = KAIFENG, zoom = 11, interactive = true } = {}) {
  return new maplibregl.Map({
    container,
    center,
    zoom,
    interactive,
    attributionControl: false,
    preserveDrawingBuffer: true,
    fadeDuration: 0,
    transformRequest: authorise,
    style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#e8edf3" } }] },
  });
}

/** Style layers for one catalogue layer; returns their ids (to toggle). */
function styleLayers(layer) {
  const style = layer.style || {};
  const base = { source: layer.code, "source-layer": layer.code, minzoom: layer.min_zoom, maxzoom: Math.min(layer.max_zoom + 1, 24) };
  const out = [];
  if (Object.keys(style).some((k) => k.startsWith("circle-"))) {
    const paint = paintOf(style, "circle-");
    // Below the detail zoom the tiles hold clusters with a member count: grow them with it.
    paint["circle-radius"] = ["case", ["has", "count"], ["interpolate", ["linear"], ["get", "count"], 1, 3, 50, 8, 1000, 16], paint["circle-radius"] ?? 3];
    out.push({ ...base, id: `${layer.code}-circle`, type: "circle", paint });
  }
  if (Object.keys(style).some((k) => k.startsWith("fill-"))) {
    out.push({ ...base, id: `${layer.code}-fill`, type: "fill", paint: paintOf(style, "fill-") });
  }
  if (Object.keys(style).some((k) => k.startsWith("line-"))) {
    out.push({ ...base, id: `${layer.code}-line`, type: "line", paint: paintOf(style, "line-") });
  }
  return out;
}

/** Adds every catalogue layer as a vector-tile source; returns {code: [style layer ids]}. */
export function addCatalogue(map, catalogue, { before } = {}) {
  const ids = {};
  // Draw polygons under lines under points, each group in catalogue order.
  const ordered = [...catalogue].sort((a, b) => rank(a) - rank(b));
  for (const layer of ordered) {
    map.addSource(layer.code, {
      type: "vector",
      tiles: [`${location.origin}${layer.tiles}`],
      minzoom: 0,
      maxzoom: TILE_MAX_ZOOM,
    });
    ids[layer.code] = [];
    for (const styleLayer of styleLayers(layer)) {
      styleLayer.layout = { visibility: layer.visible ? "visible" : "none" };
      map.addLayer(styleLayer, before);
      ids[layer.code].push(styleLayer.id);
    }
  }
  return ids;
}

function rank(layer) {
  const keys = Object.keys(layer.style || {});
  if (keys.some((k) => k.startsWith("circle-"))) return 3;
  if (keys.some((k) => k.startsWith("fill-"))) return 1;
  return 2;
}

export function setVisible(map, ids, visible) {
  for (const id of ids) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
}

export function caseFeature(c) {
  return {
    type: "Feature",
    id: Number(String(c.case_no).slice(-9)),
    geometry: { type: "Point", coordinates: [c.lon, c.lat] },
    properties: { case_no: c.case_no, state: c.state, overdue: Boolean(c.overdue), description: c.description || c.address || "" },
  };
}

export function addCases(map, features) {
  map.addSource("cases", { type: "geojson", data: { type: "FeatureCollection", features } });
  const colours = Object.entries(STATE_COLORS).flat();
  map.addLayer({
    id: "cases",
    type: "circle",
    source: "cases",
    paint: {
      "circle-radius": ["case", ["get", "overdue"], 7, 5],
      "circle-color": ["match", ["get", "state"], ...colours, "#1f78b4"],
      "circle-stroke-color": ["case", ["get", "overdue"], "#ff1744", "#ffffff"],
      "circle-stroke-width": ["case", ["get", "overdue"], 2.5, 1],
    },
  });
}

export function marker(map, lon, lat, color = "#d32f2f") {
  return new maplibregl.Marker({ color }).setLngLat([lon, lat]).addTo(map);
}

/** Public district outlines for pages without a staff login (the citizen page). */
export async function addOutline(map) {
  const response = await fetch("/api/v1/console/outline.geojson");
  if (!response.ok) return;
  map.addSource("outline", { type: "geojson", data: await response.json() });
  map.addLayer({ id: "outline", type: "line", source: "outline", paint: { "line-color": "#6a3d9a", "line-width": 2 } });
}
