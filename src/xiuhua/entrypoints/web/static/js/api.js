// The API client shared by every page: tokens kept in localStorage, refreshed once on 401, typed errors.
const KEY = "xiuhua.session";
export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export function session() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

function save(tokens) {
  localStorage.setItem(KEY, JSON.stringify(tokens));
  return tokens;
}

export function forget() {
  localStorage.removeItem(KEY);
}

async function errorOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("；") : "";
  return new ApiError(response.status, body.code || `http.${response.status}`, body.message || detail || `请求失败（${response.status}）`, body.details);
}

export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const response = await fetch(`${API}/auth/token`, { method: "POST", body: form });
  if (!response.ok) throw await errorOf(response);
  return save(await response.json());
}

async function refresh() {
  const current = session();
  if (!current || !current.refresh_token) return false;
  const response = await fetch(`${API}/auth/refresh`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: current.refresh_token }),
  });
  if (!response.ok) return false;
  save(await response.json());
  return true;
}

/** Calls the API; `body` is sent as JSON, `form` as multipart; returns parsed JSON (or a Blob for `blob`). */
export async function api(path, { method = "GET", body, form, blob = false, headers = {}, retry = true } = {}) {
  const current = session();
  const h = { ...headers };
  if (current) h.Authorization = `Bearer ${current.access_token}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    h["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path.startsWith("/") ? path : `${API}/${path}`, { method, headers: h, body: payload });
  if (response.status === 401 && retry && (await refresh())) {
    return api(path, { method, body, form, blob, headers, retry: false });
  }
  if (!response.ok) throw await errorOf(response);
  if (blob) return response.blob();
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export async function logout() {
  try {
    await api("auth/logout", { method: "POST" });
  } catch {
    /* the session may already be closed */
  }
  forget();
  location.href = "/console/";
}

/** The signed-in account, or a redirect to the login page that comes back here. */
export function requireLogin() {
  const current = session();
  if (!current) {
    location.href = `/console/?next=${encodeURIComponent(location.pathname + location.search)}`;
    throw new Error("redirecting to login");
  }
  return current;
}

export async function uploadPhoto(file) {
  const form = new FormData();
  form.append("file", file, file.name || "photo.jpg");
  const stored = await api("evidence", { method: "POST", form });
  return stored.sha256;
}

/** Refresh the access token before it lapses, for pages left open (the command center screen). */
export function keepFresh(minutes = 10) {
  setInterval(() => {
    refresh().catch(() => {});
  }, minutes * 60 * 1000);
}
