// The supervisor's phone page: report with photo and GPS (snapped to the unit grid, nearest component
// suggested), the 核实/核查 tasks with navigation data, and drafts kept through a poor connection.
import { ApiError, api, requireLogin, uploadPhoto } from "./api.js";
import { drafts, drop, fileToDataUrl, flush, keep, newKey } from "./drafts.js";
import { STATE_LABELS } from "./labels.js";
import { $, countdown, el, showError, toast, topBar } from "./ui.js";

requireLogin();
topBar("监督员");
let here = null;
let place = null;

function tab(name) {
  for (const b of document.querySelectorAll("[data-tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const s of ["report", "tasks", "drafts"]) $(`#tab-${s}`).hidden = s !== name;
  if (name === "tasks") loadTasks().catch(showError);
  if (name === "drafts") showDrafts();
}

async function loadClasses() {
  const table = await api("tables/classes");
  const at = (name) => table.columns.indexOf(name);
  const select = $("#report select[name=class]");
  select.replaceChildren(...table.rows.map((r) => el("option", { value: `${r[at("kind")]}:${r[at("code")]}` },
    `${r[at("kind")] === "component" ? "部件" : "事件"} ${r[at("code")]} ${r[at("name")]}`)));
}

function metres(a, b) {
  const rad = Math.PI / 180;
  const dlat = (b.lat - a.lat) * rad;
  const dlon = (b.lon - a.lon) * rad;
  const h = Math.sin(dlat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dlon / 2) ** 2;
  return Math.round(2 * 6371008.8 * Math.asin(Math.sqrt(h)));
}

function position() {
  return new Promise((ok, fail) => {
    if (!navigator.geolocation) return fail(new Error("此设备不支持定位"));
    navigator.geolocation.getCurrentPosition((p) => ok({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy }),
      (e) => fail(new Error(`定位失败：${e.message}`)), { enableHighAccuracy: true, timeout: 10000 });
  });
}

async function locate() {
  here = await position();
  $("#position").textContent = `${here.lon.toFixed(6)}, ${here.lat.toFixed(6)}（±${Math.round(here.accuracy || 0)} 米）`;
  const [kind, code] = $("#report select[name=class]").value.split(":");
  const query = new URLSearchParams({ lon: here.lon, lat: here.lat });
  if (kind === "component") query.set("class_code", code);
  try {
    place = await api(`console/locate?${query}`);
    $("#place").textContent = `${place.district_name || ""} ${place.street_name || ""} ${place.community_name || ""} · 单元网格 ${place.grid_code || "（不在网格内）"}`;
    $("#component-choice").hidden = !place.component;
    if (place.component) {
      $("#component-text").textContent = `关联最近部件 ${place.component.name}（${place.component.id}，${place.component.metres} 米，${place.component.department_name || ""}）`;
      $("#report input[name=component_id]").checked = true;
    }
    const dup = await api(`console/nearby?kind=${kind}&class_code=${code}&lon=${here.lon}&lat=${here.lat}`);
    $("#duplicates").textContent = dup.count ? `附近已有 ${dup.count} 件同类问题在办（最近 ${dup.nearest_metres} 米），请确认不是重复上报` : "";
  } catch (error) {
    place = null;
    $("#place").textContent = error.message;
  }
}

async function submitReport(event) {
  event.preventDefault();
  const form = $("#report");
  if (!here) {
    try {
      await locate();
    } catch (error) {
      return showError(error);
    }
  }
  const data = new FormData(form);
  const [kind, code] = String(data.get("class")).split(":");
  const body = {
    kind, class_code: code, description: String(data.get("description")), address: String(data.get("address")),
    lon: here.lon, lat: here.lat,
  };
  if (place && place.component && data.get("component_id")) body.component_id = place.component.id;
  const photos = [];
  for (const file of form.querySelector("input[name=photo]").files) photos.push(await fileToDataUrl(file));
  const draft = { key: newKey(), body, photos, saved_at: new Date().toISOString() };
  keep(draft);
  try {
    const hashes = [];
    for (const file of form.querySelector("input[name=photo]").files) hashes.push(await uploadPhoto(file));
    const done = await api("cases", { method: "POST", body: { ...body, photos: hashes }, headers: { "Idempotency-Key": draft.key } });
    drop(draft.key);
    form.reset();
    here = null;
    $("#position").textContent = "未定位";
    $("#place").textContent = "";
    $("#result")?.remove();
    form.after(el("p", { id: "result", class: "ok" }, `已上报，案件编号 ${done.case_no}`));
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) {
      drop(draft.key);
      return showError(error);
    }
    toast("网络不可用，已存为草稿，联网后自动发送");
  }
  showDrafts();
}

function showDrafts() {
  const list = drafts();
  $("#draft-count").textContent = list.length ? `(${list.length})` : "";
  $("#drafts").replaceChildren(...list.map((d) => el("li", { dataset: { key: d.key } }, `${d.body.description.slice(0, 20)} · ${d.body.address}`,
    d.error ? el("span", { class: "error" }, ` ${d.error}`) : "",
    el("button", { type: "button", class: "link", onclick: () => { drop(d.key); showDrafts(); } }, "删除"))));
}

async function sendDrafts() {
  if (!drafts().length) return;
  const [sent, left] = await flush();
  if (sent) toast(`草稿已发送 ${sent} 件${left ? `，还有 ${left} 件待发送` : ""}`);
  showDrafts();
}

async function loadTasks() {
  const tasks = await api("tasks");
  $("#task-count").textContent = tasks.length ? `(${tasks.length})` : "";
  let me = null;
  try {
    me = await position();
  } catch {
    me = null;
  }
  $("#tasks").replaceChildren(...tasks.map((c) => taskItem(c, me)));
  if (!tasks.length) $("#tasks").append(el("li", { class: "muted" }, "暂无核实、核查任务"));
}

function taskItem(c, me) {
  const verb = c.state === "verifying" ? ["verify", "核实属实", "refute", "核实不属实"] : ["check_pass", "核查通过", "check_fail", "核查不通过"];
  const photo = el("input", { type: "file", accept: "image/*", capture: "environment", name: "photo" });
  const reason = el("input", { name: "reason", placeholder: "原因（不属实、不通过时必填）" });
  const act = async (action) => {
    try {
      const hashes = [];
      for (const file of photo.files) hashes.push(await uploadPhoto(file));
      const done = await api(`cases/${c.case_no}/${action}`, { method: "POST", body: { reason: reason.value, photos: hashes } });
      toast(`${c.case_no}：${done.state_label}`);
      await loadTasks();
    } catch (error) {
      showError(error);
    }
  };
  const distance = me ? `距离约 ${metres(me, c)} 米` : "";
  return el("li", { dataset: { caseNo: c.case_no } },
    el("strong", {}, `${STATE_LABELS[c.state]} ${c.case_no}`), el("div", {}, c.description.slice(0, 50)),
    el("div", { class: "muted" }, `${c.address} · ${countdown(c.seconds_left)} ${distance}`),
    el("div", {}, el("a", { href: `geo:${c.lat},${c.lon}?q=${c.lat},${c.lon}`, class: "nav" }, "导航前往"), ` ${c.lon.toFixed(5)}, ${c.lat.toFixed(5)}`),
    el("label", {}, "现场照片 ", photo), reason,
    el("div", { class: "actions" },
      el("button", { type: "button", dataset: { action: verb[0] }, onclick: () => act(verb[0]) }, verb[1]),
      el("button", { type: "button", class: "secondary", dataset: { action: verb[2] }, onclick: () => act(verb[2]) }, verb[3])));
}

for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => tab(b.dataset.tab));
$("#gps").addEventListener("click", () => locate().catch(showError));
$("#report").addEventListener("submit", (e) => submitReport(e).catch(showError));
$("#send-drafts").addEventListener("click", () => sendDrafts().catch(showError));
window.addEventListener("online", () => sendDrafts().catch(() => {}));
setInterval(() => navigator.onLine && sendDrafts().catch(() => {}), 30000);
if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
showDrafts();
Promise.all([loadClasses(), sendDrafts().catch(() => {})])
  .catch(showError)
  .finally(() => (document.body.dataset.ready = "1"));
const wanted = new URLSearchParams(location.search).get("tab");
if (wanted) tab(wanted);
