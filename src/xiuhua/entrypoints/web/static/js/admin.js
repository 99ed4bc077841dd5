// Administration: the reference tables edited as a whole, logins, layers and the audit trail.
import { api, requireLogin } from "./api.js";
import { $, el, showError, toast, topBar, when } from "./ui.js";

requireLogin();
topBar("系统管理");
let columns = [];

function rowOf(values) {
  return el("tr", {}, ...columns.map((c, i) => el("td", {}, el("input", { value: values[i] ?? "", "aria-label": c, dataset: { column: c } }))),
    el("td", {}, el("button", { type: "button", class: "link", onclick: (e) => e.target.closest("tr").remove() }, "删除")));
}

async function loadTable() {
  const name = $("#table").value;
  const table = await api(`tables/${name}`);
  columns = table.columns;
  $("#rows thead").replaceChildren(el("tr", {}, ...columns.map((c) => el("th", {}, c)), el("th", {})));
  $("#rows tbody").replaceChildren(...table.rows.map(rowOf));
  $("#table-info").textContent = `共 ${table.rows.length} 行`;
  $("#table-result").textContent = "";
  filter();
}

function filter() {
  const word = $("#filter").value.trim();
  for (const tr of $("#rows tbody").children) {
    tr.hidden = word !== "" && ![...tr.querySelectorAll("input")].some((i) => i.value.includes(word));
  }
}

async function saveTable() {
  const name = $("#table").value;
  const rows = [...$("#rows tbody").children].map((tr) =>
    Object.fromEntries([...tr.querySelectorAll("input")].map((i) => [i.dataset.column, i.value])),
  );
  try {
    const done = await api(`admin/tables/${name}`, { method: "PUT", body: { rows } });
    $("#table-result").className = "ok";
    $("#table-result").textContent = `已保存 ${done.written} 行`;
    await loadTable();
    $("#table-result").textContent = `已保存 ${done.written} 行`;
  } catch (error) {
    $("#table-result").className = "error";
    const rowsWrong = error.details && error.details.errors ? error.details.errors.map((e) => `第 ${e.row} 行：${e.message}`).join("；") : "";
    $("#table-result").textContent = `${error.message}${rowsWrong ? `（${rowsWrong}）` : ""}`;
  }
}

async function loadLayers() {
  const layers = await api("layers");
  $("#layers tbody").replaceChildren(...layers.map((l) => el("tr", {}, el("td", {}, l.code), el("td", {}, l.name), el("td", {}, l.category),
    el("td", {}, `${l.min_zoom}–${l.max_zoom}`), el("td", {}, l.visible ? "是" : "否"))));
}

async function loadAudit() {
  const events = await api("admin/audit?limit=50");
  $("#audit tbody").replaceChildren(...events.map((e) => el("tr", {}, el("td", {}, when(e.at)), el("td", {}, e.actor), el("td", {}, e.action),
    el("td", {}, e.target), el("td", { class: "muted" }, JSON.stringify(e.details)))));
}

$("#table").addEventListener("change", () => loadTable().catch(showError));
$("#filter").addEventListener("input", filter);
$("#add-row").addEventListener("click", () => $("#rows tbody").prepend(rowOf([])));
$("#save").addEventListener("click", saveTable);
$("#password").addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = new FormData(e.target);
  try {
    await api(`admin/staff/${encodeURIComponent(String(data.get("username")))}/password`, { method: "PUT", body: { password: String(data.get("password")) } });
    toast("密码已设置");
    e.target.reset();
  } catch (error) {
    showError(error);
  }
});
$("#active").addEventListener("submit", async (e) => {
  e.preventDefault();
  const op = e.submitter ? e.submitter.value : "disable";
  const username = String(new FormData(e.target).get("username"));
  try {
    await api(`admin/accounts/${encodeURIComponent(username)}/${op}`, { method: "POST" });
    toast(op === "disable" ? `已停用 ${username}` : `已启用 ${username}`);
    loadAudit().catch(() => {});
  } catch (error) {
    showError(error);
  }
});
Promise.all([loadTable(), loadLayers(), loadAudit()])
  .catch(showError)
  .finally(() => (document.body.dataset.ready = "1"));
