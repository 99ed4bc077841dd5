// The citizen's phone page: a problem in plain words, a point on the map, a photo, a tracking code,
// the status as it moves, and a rating after closure.
import { api, login, session } from "./api.js";
import { addOutline, KAIFENG, marker, newMap } from "./map.js";
import { $, el, showError, when } from "./ui.js";

// Plain words → the directory's class (部件 or 事件) they mean.
const TYPES = [
  ["井盖破损、丢失", "component", "01003"],
  ["路灯不亮", "component", "01037"],
  ["垃圾箱满溢、损坏", "component", "03005"],
  ["路边有暴露垃圾", "matter", "06010"],
  ["乱贴小广告", "matter", "07001"],
  ["油烟污染", "matter", "06027"],
  ["噪声扰民", "matter", "06028"],
];
const PUBLIC_STATES = { closed: "已办结", voided: "已作废（不予立案或重复）" };
let chosen = null;
let point = null;
let map;
let pin;

function signedIn() {
  const s = session();
  return s && s.roles.includes("citizen");
}

function show() {
  $("#signin").hidden = signedIn();
  $("#app").hidden = !signedIn();
  if (signedIn()) startApp();
  else document.body.dataset.ready = "1";
}

$("#login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = new FormData(e.target);
  try {
    const tokens = await login(String(data.get("username")), String(data.get("password")));
    if (!tokens.roles.includes("citizen")) throw new Error("工作人员请使用工作台登录");
    show();
  } catch (error) {
    $("#signin-error").textContent = error.message;
  }
});

$("#register").addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = Object.fromEntries(new FormData(e.target));
  if (!data.phone) delete data.phone;
  try {
    await api("auth/citizens", { method: "POST", body: data });
    await login(data.username, data.password);
    show();
  } catch (error) {
    $("#signin-error").textContent = error.message;
  }
});

function tab(name) {
  for (const b of document.querySelectorAll("[data-tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  $("#report").hidden = name !== "report";
  $("#mine").hidden = name !== "mine";
  if (name === "mine") loadMine().catch(showError);
}

async function checkNearby() {
  if (!chosen || !point) return;
  const [, kind, code] = chosen;
  const found = await api(`console/nearby?kind=${kind}&class_code=${code}&lon=${point.lon}&lat=${point.lat}`);
  $("#nearby").textContent = found.count ? `附近 ${found.nearest_metres} 米内已有人反映过同类问题，正在处理中；如确属新问题请继续提交。` : "";
}

let started = false;
async function startApp() {
  if (started) return;
  started = true;
  $("#types").replaceChildren(...TYPES.map((t, i) => el("button", { type: "button", class: "secondary", role: "radio", "aria-checked": "false", dataset: { type: i },
    onclick: (e) => {
      chosen = t;
      for (const b of document.querySelectorAll("#types button")) b.setAttribute("aria-checked", String(b === e.target));
      for (const b of document.querySelectorAll("#types button")) b.className = b === e.target ? "" : "secondary";
      checkNearby().catch(() => {});
    } }, t[0])));
  map = newMap("map", { center: KAIFENG, zoom: 12 });
  map.on("click", (e) => {
    point = { lon: e.lngLat.lng, lat: e.lngLat.lat };
    if (pin) pin.remove();
    pin = marker(map, point.lon, point.lat);
    $("#point").textContent = `已选点：${point.lon.toFixed(5)}, ${point.lat.toFixed(5)}`;
    checkNearby().catch(() => {});
  });
  await new Promise((ok) => map.on("load", ok));
  await addOutline(map);
  window.xiuhuaMap = map;
  for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => tab(b.dataset.tab));
  const wanted = new URLSearchParams(location.search).get("no");
  if (wanted) {
    tab("mine");
    await follow(wanted);
  }
  document.body.dataset.ready = "1";
}

$("#report").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!chosen) return showError(new Error("请先选择问题类型"));
  if (!point) return showError(new Error("请在地图上点出位置"));
  const data = new FormData(e.target);
  const body = {
    kind: chosen[1], class_code: chosen[2], description: String(data.get("description") || "").trim() || chosen[0],
    address: String(data.get("address") || "").trim() || "地图选点", lon: point.lon, lat: point.lat,
  };
  if (data.get("phone")) body.reporter_phone = String(data.get("phone"));
  try {
    const file = e.target.querySelector("input[name=photo]").files[0];
    if (file) {
      const form = new FormData();
      form.append("file", file, file.name);
      body.photos = [(await api("evidence", { method: "POST", form })).sha256];
    }
    const done = await api("cases", { method: "POST", body });
    $("#tracking").replaceChildren("提交成功！查询码：", el("strong", { id: "code" }, done.case_no),
      done.duplicates.length ? el("div", { class: "muted" }, "附近已有同类问题在处理，我们会一并核实。") : "");
    e.target.reset();
  } catch (error) {
    showError(error);
  }
});

async function loadMine() {
  const page = await api("cases?limit=50");
  $("#my-cases").replaceChildren(...page.items.map((c) => el("li", {},
    el("a", { href: "#", dataset: { caseNo: c.case_no }, onclick: (e) => { e.preventDefault(); follow(c.case_no).catch(showError); } }, c.case_no),
    ` ${c.description.slice(0, 20)} · ${PUBLIC_STATES[c.state] || c.state_label}`)));
  if (!page.items.length) $("#my-cases").append(el("li", { class: "muted" }, "还没有反映过问题"));
}

async function follow(caseNo) {
  const d = await api(`cases/${encodeURIComponent(caseNo)}`);
  const box = $("#follow");
  box.replaceChildren(
    el("h3", {}, `查询码 ${d.case_no}：`, el("span", { id: "public-state", dataset: { state: d.state } }, PUBLIC_STATES[d.state] || d.state_label)),
    el("ol", { class: "timeline" }, ...d.log.map((e) => el("li", {}, `${when(e.at)} ${e.action_label}`))),
  );
  if (d.state !== "closed") return;
  try {
    const rated = await api(`console/cases/${d.case_no}/rating`);
    box.append(el("p", { id: "rated", class: "ok" }, `您的评价：${"★".repeat(rated.score)} ${rated.comment || ""}`));
  } catch {
    const comment = el("input", { name: "comment", placeholder: "说说您的看法（可不填）" });
    box.append(el("div", { id: "rate" }, el("p", {}, "问题已办结，请评价处理结果："),
      el("div", { class: "stars" }, ...[1, 2, 3, 4, 5].map((n) => el("button", { type: "button", dataset: { score: n }, "aria-label": `${n} 星`,
        onclick: async () => {
          try {
            await api(`console/cases/${d.case_no}/rating`, { method: "POST", body: { score: n, comment: comment.value } });
            await follow(d.case_no);
          } catch (error) {
            showError(error);
          }
        } }, "★"))), comment));
  }
}

$("#find").addEventListener("submit", (e) => {
  e.preventDefault();
  const no = String(new FormData(e.target).get("no") || "").trim();
  if (no) follow(no).catch(showError);
});
show();
