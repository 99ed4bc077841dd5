// One case: its facts, map, photos, log and step deadlines, and exactly the actions the viewer may take now.
import { api, requireLogin, session, uploadPhoto } from "./api.js";
import { ACTION_LABELS, NEEDS_REASON, SOURCE_LABELS, STATE_COLORS, TAKES_PHOTOS } from "./labels.js";
import { addCatalogue, marker, newMap } from "./map.js";
import { $, countdown, el, showError, toast, topBar, when } from "./ui.js";

requireLogin();
topBar("案件");
const caseNo = new URLSearchParams(location.search).get("no") || "";
let current;
let map;

function fact(label, value) {
  return el("tr", {}, el("th", {}, label), el("td", {}, value ?? "—"));
}

async function photos(detail) {
  const box = $("#photos");
  box.replaceChildren();
  const stages = { report: "上报", verify: "核实", before: "处置前", after: "处置后", check: "核查" };
  for (const p of detail.photos) {
    try {
      const blob = await api(`cases/${detail.case_no}/photos/${p.sha256}`, { blob: true });
      box.append(el("figure", {}, el("img", { src: URL.createObjectURL(blob), alt: `${stages[p.stage] || p.stage}照片` }),
        el("figcaption", { class: "muted" }, `${stages[p.stage] || p.stage} ${when(p.added_at)}`)));
    } catch (error) {
      box.append(el("span", { class: "error" }, error.message));
    }
  }
  if (!detail.photos.length) box.append(el("span", { class: "muted" }, "暂无照片"));
}

function render(d) {
  current = d;
  document.title = `绣花 · 案件 ${d.case_no}`;
  $("#case").hidden = false;
  $("#case-no").textContent = d.case_no;
  const badge = $("#state");
  badge.textContent = d.state_label;
  badge.style.background = STATE_COLORS[d.state] || "#555";
  badge.dataset.state = d.state;
  $("#clock").textContent = d.due_at ? `${countdown(d.seconds_left)}（期限 ${when(d.due_at)}）` : "";
  $("#clock").className = d.overdue || d.seconds_left < 0 ? "late" : "ok";
  $("#description").textContent = d.description;
  $("#where").textContent = `${d.address} · 网格 ${d.grid_code || "—"} · ${SOURCE_LABELS[d.source] || d.source}`;
  $("#facts").replaceChildren(
    fact("类别", `${d.kind === "component" ? "部件" : "事件"} ${d.class_code}`), fact("紧急程度", d.urgency),
    fact("上报时间", when(d.reported_at)), fact("举报人", d.reporter), fact("联系电话", d.reporter_phone),
    fact("部件编号", d.component_id), fact("处置部门", d.department_code), fact("处置人", d.handler),
    fact("处置时限", d.disposal_limit), fact("派遣时间", when(d.dispatched_at)), fact("结案时间", when(d.closed_at)),
    fact("待批延期", d.pending_extension), fact("重复于", d.duplicate_of),
  );
  $("#log").replaceChildren(...d.log.map((e) => el("li", { dataset: { action: e.action } },
    el("strong", {}, e.action_label), ` ${when(e.at)} · ${e.actor}`,
    e.reason ? el("div", {}, `原因：${e.reason}`) : "",
    e.step_due_at ? el("div", { class: e.on_time === false ? "late" : "muted" }, `环节期限 ${when(e.step_due_at)}${e.on_time === false ? "（超时）" : ""}`) : "",
    e.attachments.length ? el("div", { class: "muted" }, `附照片 ${e.attachments.length} 张`) : "")));
  $("#steps tbody").replaceChildren(...d.steps.map((s) => el("tr", {},
    el("td", {}, s.label), el("td", {}, when(s.entered_at)), el("td", {}, when(s.due_at)), el("td", {}, when(s.done_at)),
    el("td", { class: s.on_time === false ? "late" : "ok" }, s.on_time === null ? "—" : s.on_time ? "按时" : "超时"))));
  $("#urges-card").hidden = !d.urges.length;
  $("#urges").replaceChildren(...d.urges.map((u) => el("li", {}, `${when(u.issued_at)} ${u.issued_by}：${u.reason}（限 ${when(u.due_at)}）`)));
  $("#actions").replaceChildren(
    ...d.allowed_actions.map((a) => el("button", { type: "button", dataset: { action: a }, class: NEEDS_REASON.has(a) ? "secondary" : "", onclick: () => openAction(a) }, ACTION_LABELS[a] || a)),
  );
  if (!d.allowed_actions.length) $("#actions").append(el("span", { class: "muted" }, "当前没有您可办理的操作"));
  photos(d);
  drawMap(d);
}

async function drawMap(d) {
  if (!map) {
    map = newMap("map", { center: [d.lon, d.lat], zoom: 15 });
    await new Promise((ok) => map.on("load", ok));
    try {
      const catalogue = (await api("layers")).filter((l) => ["districts", "streets", "grids"].includes(l.code));
      addCatalogue(map, catalogue.map((l) => ({ ...l, visible: true })));
    } catch {
      /* the map still shows the point */
    }
  }
  marker(map, d.lon, d.lat);
}

async function fieldsFor(action) {
  const fields = [];
  if (action === "file") {
    const standards = await api(`console/cases/${caseNo}/standards`);
    fields.push(el("label", {}, el("span", {}, "立案条件"), el("select", { name: "standard_id", required: true },
      ...standards.map((s) => el("option", { value: s.id }, `${s.filing_condition}（时限 ${Object.values(s.limits).join("/")}）`)))));
  }
  if (action === "dispatch") {
    const [suggested, departments] = await Promise.all([api(`console/cases/${caseNo}/suggestion`), api("console/departments")]);
    fields.push(el("p", { id: "suggestion", class: "ok" }, suggested.department_code ? `路由建议：${suggested.department_name}` : "没有路由建议，请选择部门"));
    fields.push(el("label", {}, el("span", {}, "处置部门"), el("select", { name: "department_code", required: true },
      ...departments.map((o) => el("option", { value: o.code, selected: o.code === suggested.department_code }, o.name)))));
    fields.push(el("label", {}, el("span", {}, "处置人"), el("input", { name: "handler", placeholder: "可不填" })));
  }
  if (action === "request_extension") {
    fields.push(el("label", {}, el("span", {}, "延长时限"), el("input", { name: "extension", required: true, value: "1工作日" })));
  }
  if (action === "void") {
    fields.push(el("label", {}, el("span", {}, "重复于"), el("input", { name: "duplicate_of", placeholder: "主案件编号，可不填", pattern: "[0-9]{8,20}" })));
  }
  if (TAKES_PHOTOS.has(action)) {
    fields.push(el("label", {}, el("span", {}, "照片"), el("input", { name: "photos", type: "file", accept: "image/*", multiple: true, capture: "environment" })));
  }
  const needs = NEEDS_REASON.has(action);
  fields.push(el("label", {}, el("span", {}, needs ? "原因（必填）" : "说明"), el("textarea", { name: "reason", required: needs, maxlength: 500 })));
  return fields;
}

async function openAction(action) {
  const dialog = $("#act");
  $("#act-title").textContent = `${ACTION_LABELS[action]} · ${caseNo}`;
  $("#act-error").textContent = "";
  $("#act-form").dataset.action = action;
  try {
    $("#act-fields").replaceChildren(...(await fieldsFor(action)));
  } catch (error) {
    return showError(error);
  }
  dialog.showModal();
}

async function submitAction(event) {
  event.preventDefault();
  const form = $("#act-form");
  if (!form.reportValidity()) return;
  const action = form.dataset.action;
  const data = new FormData(form);
  const body = {};
  for (const key of ["reason", "standard_id", "department_code", "handler", "extension", "duplicate_of"]) {
    const value = data.get(key);
    if (value !== null && value !== "") body[key] = key === "standard_id" ? Number(value) : String(value);
  }
  if (!("reason" in body)) body.reason = "";
  $("#act-submit").disabled = true;
  try {
    const files = form.querySelector("input[name=photos]");
    if (files && files.files.length) body.photos = await Promise.all([...files.files].map(uploadPhoto));
    const done = await api(`cases/${caseNo}/${action}`, { method: "POST", body });
    $("#act").close();
    toast(`已${ACTION_LABELS[action]}：${done.state_label}`);
    render(await api(`cases/${caseNo}`));
  } catch (error) {
    $("#act-error").textContent = error.message;
  } finally {
    $("#act-submit").disabled = false;
  }
}

$("#act-form").addEventListener("submit", submitAction);
$("#act-cancel").addEventListener("click", () => $("#act").close());
setInterval(() => {
  if (current && current.seconds_left !== null && current.seconds_left !== undefined) {
    current.seconds_left -= 1;
    $("#clock").textContent = `${countdown(current.seconds_left)}（期限 ${when(current.due_at)}）`;
  }
}, 1000);

api(`cases/${caseNo}`)
  .then(render)
  .catch((error) => {
    $("#problem").textContent = error.message;
  })
  .finally(() => (document.body.dataset.ready = "1"));
if (session() && session().roles.includes("citizen")) location.href = `citizen.html?no=${caseNo}`;
