// A role's workbench: the task queue by deadline with live countdowns, bulk actions, and case search.
import { api, requireLogin } from "./api.js";
import { ACTION_LABELS, NEEDS_REASON, STATE_COLORS, STATE_LABELS } from "./labels.js";
import { $, countdown, el, showError, toast, topBar, when } from "./ui.js";

const me = requireLogin();
topBar("工作台");
// Bulk actions each role may take on many cases at once (no per-case input beyond a shared reason).
const BULK = {
  acceptor: ["accept", "send_verify", "send_check"],
  shift_leader: ["close", "urge"],
  dispatcher: ["approve"],
  leader: ["urge"],
};
let queue = [];
let loadedAt = Date.now();
let cursor = null;

function row(c) {
  return el("tr", { dataset: { caseNo: c.case_no } },
    el("td", {}, el("input", { type: "checkbox", class: "pick", value: c.case_no, "aria-label": `选择 ${c.case_no}` })),
    el("td", {}, el("a", { href: `case.html?no=${c.case_no}` }, c.case_no)),
    el("td", {}, el("span", { class: "badge", style: `background:${STATE_COLORS[c.state]}` }, STATE_LABELS[c.state])),
    el("td", {}, c.description.slice(0, 40)),
    el("td", {}, c.address),
    el("td", {}, when(c.due_at)),
    el("td", { class: `countdown ${c.overdue || c.seconds_left < 0 ? "late" : ""}`, dataset: { left: c.seconds_left ?? "" } }, countdown(c.seconds_left)));
}

async function loadQueue() {
  queue = await api("tasks?limit=200");
  loadedAt = Date.now();
  $("#queue tbody").replaceChildren(...queue.map(row));
  $("#count").textContent = `共 ${queue.length} 件`;
  if (!queue.length) $("#queue tbody").append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "暂无待办")));
}

function tick() {
  const elapsed = (Date.now() - loadedAt) / 1000;
  for (const cell of document.querySelectorAll("td.countdown")) {
    if (cell.dataset.left === "") continue;
    const left = Number(cell.dataset.left) - elapsed;
    cell.textContent = countdown(left);
    cell.classList.toggle("late", left < 0);
  }
}

async function runBulk() {
  const action = $("#bulk-action").value;
  const picked = [...document.querySelectorAll("#queue .pick:checked")].map((i) => i.value);
  if (!action || !picked.length) return toast("请选择操作并勾选案件");
  let reason = "";
  if (NEEDS_REASON.has(action)) {
    reason = prompt(`${ACTION_LABELS[action]}：请填写原因（将用于全部 ${picked.length} 件）`) || "";
    if (!reason) return;
  }
  const failed = [];
  for (const no of picked) {
    try {
      await api(`cases/${no}/${action}`, { method: "POST", body: { reason } });
    } catch (error) {
      failed.push(`${no}：${error.message}`);
    }
  }
  toast(failed.length ? `成功 ${picked.length - failed.length} 件，失败 ${failed.length} 件：${failed[0]}` : `已${ACTION_LABELS[action]} ${picked.length} 件`, failed.length ? "error" : "info");
  await loadQueue();
}

async function search(event, more = false) {
  if (event) event.preventDefault();
  const data = new FormData($("#search"));
  const no = String(data.get("no") || "").trim();
  if (no) {
    location.href = `case.html?no=${encodeURIComponent(no)}`;
    return;
  }
  const query = new URLSearchParams({ limit: "50" });
  if (data.get("state")) query.append("state", String(data.get("state")));
  if (data.get("overdue")) query.set("overdue", "true");
  if (more && cursor) query.set("cursor", cursor);
  try {
    const page = await api(`cases?${query}`);
    const rows = page.items.map((c) => el("tr", {}, el("td", {}, el("a", { href: `case.html?no=${c.case_no}` }, c.case_no)),
      el("td", {}, STATE_LABELS[c.state]), el("td", {}, c.description.slice(0, 40)), el("td", {}, c.address), el("td", {}, when(c.reported_at))));
    if (more) $("#results tbody").append(...rows);
    else $("#results tbody").replaceChildren(...rows);
    cursor = page.next_cursor;
    $("#more").hidden = !cursor;
  } catch (error) {
    showError(error);
  }
}

const bulk = [...new Set(me.roles.flatMap((r) => BULK[r] || []))];
$("#bulk-action").append(...bulk.map((a) => el("option", { value: a }, ACTION_LABELS[a])));
$("#search select[name=state]").append(...Object.entries(STATE_LABELS).map(([v, l]) => el("option", { value: v }, l)));
$("#bulk-run").addEventListener("click", runBulk);
$("#reload").addEventListener("click", () => loadQueue().catch(showError));
$("#pick-all").addEventListener("change", (e) => document.querySelectorAll("#queue .pick").forEach((i) => (i.checked = e.target.checked)));
$("#search").addEventListener("submit", (e) => search(e));
$("#more").addEventListener("click", () => search(null, true));
setInterval(tick, 1000);
loadQueue()
  .then(() => search(null))
  .catch(showError)
  .finally(() => (document.body.dataset.ready = "1"));
