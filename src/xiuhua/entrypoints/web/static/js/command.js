// The command center screen: the city's layers, live cases, today's figures and the event stream.
import { api, keepFresh, requireLogin, session } from "./api.js";
import { ACTION_LABELS, OPEN_STATES, STATE_COLORS, STATE_LABELS } from "./labels.js";
import { addCases, addCatalogue, caseFeature, newMap, setVisible } from "./map.js";
import { $, el, showError, toast, topBar, when } from "./ui.js";

requireLogin();
topBar("指挥大屏");
keepFresh();
const cases = new Map();
let map;

function legend() {
  $("#legend").replaceChildren(
    ...OPEN_STATES.map((s) => el("span", {}, el("i", { style: `background:${STATE_COLORS[s]}` }), STATE_LABELS[s])),
    el("span", {}, el("i", { style: "background:#fff;border:2px solid #ff1744" }), "超期"),
  );
}

function bars(rows, width = 310) {
  const top = rows.slice(0, 10);
  const max = Math.max(1, ...top.map((r) => r.open));
  const height = top.length * 22 + 4;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("class", "bars");
  top.forEach((r, i) => {
    const y = i * 22 + 2;
    const w = ((width - 150) * r.open) / max;
    const lw = ((width - 150) * r.overdue) / max;
    svg.insertAdjacentHTML(
      "beforeend",
      `<text x="0" y="${y + 14}">${escape(r.name).slice(0, 9)}</text>` +
        `<rect x="110" y="${y + 3}" width="${w}" height="14" fill="#1e88e5"></rect>` +
        `<rect x="110" y="${y + 3}" width="${lw}" height="14" fill="#e53935"></rect>` +
        `<text x="${114 + w}" y="${y + 14}">${r.open}/${r.overdue}</text>`,
    );
  });
  return svg;
}

function escape(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

async function loadFigures() {
  const f = await api("console/figures");
  $("#day").textContent = f.day;
  const items = [
    ["上报", f.reported], ["立案", f.filed], ["派遣", f.dispatched], ["结案", f.closed], ["超期", f.overdue],
    ["按时率", f.on_time_rate === null ? "—" : `${(f.on_time_rate * 100).toFixed(1)}%`],
  ];
  $("#figures").replaceChildren(...items.map(([label, value]) => el("div", { class: "figure", dataset: { figure: label } }, el("b", {}, value), label)));
  $("#by-district").replaceChildren(bars(f.districts));
  $("#by-department").replaceChildren(bars(f.departments));
}

async function loadCases() {
  let cursor = null;
  for (let page = 0; page < 5; page++) {
    const query = new URLSearchParams(OPEN_STATES.map((s) => ["state", s]));
    query.set("limit", "200");
    if (cursor) query.set("cursor", cursor);
    const found = await api(`cases?${query}`);
    for (const c of found.items) cases.set(c.case_no, c);
    cursor = found.next_cursor;
    if (!cursor) break;
  }
}

function drawCases() {
  const onlyLate = $("#only-overdue").checked;
  const shown = [...cases.values()].filter((c) => OPEN_STATES.includes(c.state) && (!onlyLate || c.overdue));
  const source = map.getSource("cases");
  const data = { type: "FeatureCollection", features: shown.map(caseFeature) };
  if (source) source.setData(data);
  else addCases(map, data.features);
  $("#case-count").textContent = shown.length;
  const late = [...cases.values()].filter((c) => c.overdue && OPEN_STATES.includes(c.state)).slice(0, 30);
  $("#overdue-list").replaceChildren(
    ...late.map((c) =>
      el("label", {}, el("input", { type: "checkbox", value: c.case_no, class: "pick" }), " ",
        el("a", { href: `case.html?no=${c.case_no}` }, c.case_no), ` ${STATE_LABELS[c.state]} `, el("span", { class: "muted" }, c.address)),
    ),
  );
}

function layerToggles(catalogue, ids) {
  const groups = {};
  for (const layer of catalogue) (groups[layer.category] ||= []).push(layer);
  $("#layers").replaceChildren(
    ...Object.entries(groups).map(([category, members]) =>
      el("fieldset", {}, el("legend", {}, category),
        ...members.map((layer) =>
          el("label", {}, el("input", {
            type: "checkbox", checked: layer.visible, dataset: { layer: layer.code },
            onchange: (e) => setVisible(map, ids[layer.code], e.target.checked),
          }), ` ${layer.name}`),
        )),
    ),
  );
}

function onEvent(type, data) {
  const known = cases.get(data.case_no);
  if (data.lon !== undefined) {
    cases.set(data.case_no, { ...(known || {}), ...data, overdue: known ? known.overdue : false });
  } else if (known) {
    cases.set(data.case_no, { ...known, state: data.state || known.state, overdue: type === "case.overdue" ? true : known.overdue });
  }
  drawCases();
  const label = type === "case.overdue" ? "超期" : type === "alarm.raised" ? "告警" : ACTION_LABELS[data.action] || type;
  const item = el("li", { dataset: { caseNo: data.case_no } }, `${when(data.at)} `, el("a", { href: `case.html?no=${data.case_no}` }, data.case_no),
    ` ${label} → ${STATE_LABELS[data.state] || ""} `, el("span", { class: "muted" }, data.address || ""));
  $("#events").prepend(item);
  while ($("#events").children.length > 50) $("#events").lastChild.remove();
  clearTimeout(onEvent.timer);
  onEvent.timer = setTimeout(() => loadFigures().catch(() => {}), 1500);
}

function stream() {
  const token = session().access_token;
  const source = new EventSource(`/api/v1/events/stream?access_token=${encodeURIComponent(token)}&replay=20&max_seconds=600`);
  for (const type of ["case.reported", "case.transitioned", "case.overdue", "alarm.raised"]) {
    source.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
  }
  source.onopen = () => ($("#stream-state").textContent = "已连接");
  source.onerror = () => {
    // The stream ends after max_seconds or when the token lapses: reconnect with a fresh token.
    $("#stream-state").textContent = "重新连接…";
    source.close();
    setTimeout(stream, 3000);
  };
}

async function bulkUrge() {
  const picked = [...document.querySelectorAll(".pick:checked")].map((i) => i.value);
  if (!picked.length) return toast("请先勾选案件");
  const reason = prompt(`督办 ${picked.length} 件超期案件，请填写督办意见：`);
  if (!reason) return;
  let done = 0;
  for (const no of picked) {
    try {
      await api(`cases/${no}/urge`, { method: "POST", body: { reason } });
      done += 1;
    } catch (error) {
      showError(error);
    }
  }
  toast(`已督办 ${done} 件`);
}

async function start() {
  legend();
  map = newMap("map");
  window.xiuhuaMap = map; // for the browser tests and the console of whoever debugs the screen
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  // Marks for the time-to-interactive breakdown (read by the browser tests).
  const mark = (name) => (value) => (performance.mark(`xiuhua:${name}`), value);
  const [catalogue] = await Promise.all([
    api("layers").then(mark("layers")), loadCases().then(mark("cases")), loadFigures().then(mark("figures")),
    new Promise((ok) => map.on("load", ok)).then(mark("map-load")),
  ]);
  const ids = addCatalogue(map, catalogue);
  layerToggles(catalogue, ids);
  drawCases();
  map.on("click", "cases", (e) => {
    const p = e.features[0].properties;
    new maplibregl.Popup().setLngLat(e.lngLat)
      .setHTML(`<a href="case.html?no=${p.case_no}">${p.case_no}</a> ${STATE_LABELS[p.state]}${p.overdue ? "（超期）" : ""}<br>${escape(p.description)}`)
      .addTo(map);
  });
  $("#only-overdue").addEventListener("change", drawCases);
  $("#bulk-urge").addEventListener("click", bulkUrge);
  stream();
  map.once("idle", () => {
    window.__tti = performance.now(); // since navigation start
    document.body.dataset.ready = "1";
  });
  setInterval(() => loadFigures().catch(() => {}), 60000);
}

start().catch((error) => {
  showError(error);
  document.body.dataset.failed = error.message;
});
