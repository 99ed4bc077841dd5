// Evaluation: rankings per period and object type, drill-down to cases, freezing and appeals, the reward
// ledger, campaigns.
import { api, requireLogin } from "./api.js";
import { $, el, showError, toast, topBar } from "./ui.js";

const me = requireLogin();
topBar("考核评价");
const form = $("#pick");
const month = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit" }).format(new Date());
const query = new URLSearchParams(location.search);
form.period.value = query.get("period") || month;
if (query.get("object_type")) form.object_type.value = query.get("object_type");
const decides = me.roles.some((r) => r === "leader" || r === "admin");
let frozen = null; // the revision shown, when the period is frozen
const names = new Map(); // codes of objects and indicators seen in the ranking → their names
const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const goal = (t, v) => (t.kind === "quantity" ? (v === null || v === undefined ? "—" : String(v)) : pct(v));
const figure = (kind, v) => (v === null || v === undefined ? "—" : kind === "rate" ? pct(v) : kind === "band" ? String(v) : v.toFixed(2));

async function drill(period, type, code, indicator, name) {
  const d = await api(`console/evaluation/${period}/drill?object_type=${type}&code=${encodeURIComponent(code)}&indicator=${indicator}`);
  const links = (nos) => nos.slice(0, 200).map((no) => el("a", { href: `case.html?no=${no}`, style: "margin-right:6px" }, no));
  const appealable = frozen && decides && type === "department" && d.deducted_cases.length;
  $("#drill").replaceChildren(el("h3", {}, `${name} · ${d.name}`),
    el("p", {}, `分子（${d.numerator}）${d.numerator_cases.length} 件：`, ...links(d.numerator_cases)),
    d.denominator ? el("p", {}, `分母（${d.denominator}）${d.denominator_cases.length} 件：`, ...links(d.denominator_cases)) : "",
    appealable ? el("div", { class: "deductions" }, el("h3", {}, `扣分案件 ${d.deducted_cases.length} 件（可申诉）`),
      ...d.deducted_cases.slice(0, 50).map((no) => appealForm(period, code, indicator, no))) : "");
}

function appealForm(period, department, indicator, caseNo) {
  const reason = el("input", { name: "reason", placeholder: "申诉理由", required: true, size: 30 });
  const row = el("form", { class: "actions appeal", dataset: { case: caseNo } },
    el("a", { href: `case.html?no=${caseNo}` }, caseNo), reason, el("button", { type: "submit" }, "申诉"));
  row.addEventListener("submit", (e) => {
    e.preventDefault();
    api(`evaluations/${encodeURIComponent(period)}/appeals`, { method: "POST", body: { department, indicator, case_no: caseNo, reason: reason.value.trim() } })
      .then((r) => { toast(`申诉已登记，编号 ${r.appeal_id}`); row.replaceChildren(`${caseNo} 已申诉（编号 ${r.appeal_id}）`); return appeals(period); })
      .catch(showError);
  });
  return row;
}

const STATUS = { pending: "待审批", approved: "已批准", rejected: "已驳回" };

async function appeals(period) {
  const list = await api(`evaluations/${encodeURIComponent(period)}/appeals`);
  $("#appeals tbody").replaceChildren(...list.map((a) => el("tr", { dataset: { id: a.id, status: a.status } },
    el("td", {}, a.id), el("td", {}, names.get(a.object_code) || a.object_code), el("td", {}, names.get(a.indicator) || a.indicator),
    el("td", {}, el("a", { href: `case.html?no=${a.case_no}` }, a.case_no)), el("td", {}, a.reason),
    el("td", {}, STATUS[a.status] || a.status, a.decision ? `：${a.decision}` : ""),
    el("td", {}, a.status === "pending" && decides ? decisionForm(period, a.id) : ""))));
  if (!list.length) $("#appeals tbody").append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "本期没有申诉")));
}

function decisionForm(period, id) {
  const reason = el("input", { name: "decision", placeholder: "审批意见", size: 16 });
  const decide = (approve) => {
    if (!reason.value.trim()) return toast("请填写审批意见", "error");
    api(`evaluations/appeals/${id}/decision`, { method: "POST", body: { approve, reason: reason.value.trim() } })
      .then((r) => { toast(approve ? `已批准，结果第 ${r.revision} 版` : "已驳回"); return show(); })
      .catch(showError);
  };
  return el("span", { class: "actions" }, reason,
    el("button", { type: "button", class: "approve", onclick: () => decide(true) }, "批准"),
    el("button", { type: "button", class: "reject", onclick: () => decide(false) }, "驳回"));
}

async function download(format) {
  const period = form.period.value.trim();
  const blob = await api(`evaluations/${encodeURIComponent(period)}?format=${format}`, { blob: true });
  const link = el("a", { href: URL.createObjectURL(blob), download: `evaluation-${period}.${format}` });
  document.body.append(link);
  link.click();
  link.remove();
}

$("#download-xlsx").addEventListener("click", () => download("xlsx").catch(showError));
$("#download-html").addEventListener("click", () => download("html").catch(showError));
$("#freeze").addEventListener("click", () => {
  const period = form.period.value.trim();
  api(`evaluations/${encodeURIComponent(period)}/freeze`, { method: "POST" })
    .then(() => { toast(`${period} 评价结果已冻结`); return show(); })
    .catch(showError);
});

async function ranking(period, type) {
  const r = await api(`console/evaluation/${period}?object_type=${type}`);
  frozen = r.revision;
  for (const o of r.objects) names.set(o.code, o.name);
  for (const i of r.indicators) names.set(i.code, i.name);
  $("#summary").textContent = `${r.first_day} 至 ${r.last_day} · 案件 ${r.cases} 件 · 方案 ${r.scheme_version}${r.revision ? ` · 已冻结（第 ${r.revision} 版）` : " · 实时计算"}`;
  $("#frozen-state").textContent = r.revision ? `已冻结，第 ${r.revision} 版` : "尚未冻结（实时计算）";
  $("#freeze").hidden = Boolean(r.revision) || !decides;
  $("#ranking thead").replaceChildren(el("tr", {}, el("th", {}, "名次"), el("th", {}, r.object_label), el("th", {}, "综合得分"), el("th", {}, "等级"),
    ...r.indicators.map((i) => el("th", {}, i.name))));
  $("#ranking tbody").replaceChildren(...r.objects.map((o) => el("tr", { dataset: { code: o.code } }, el("td", {}, o.rank ?? "—"), el("td", {}, o.name),
    el("td", {}, o.composite === null ? "—" : o.composite.toFixed(1)), el("td", {}, o.grade),
    ...r.indicators.map((i) => el("td", {}, el("a", { href: "#", dataset: { indicator: i.code }, onclick: (e) => { e.preventDefault(); drill(period, type, o.code, i.code, o.name).catch(showError); } }, figure(i.kind, o.values[i.code])))))));
  if (!r.objects.length) $("#ranking tbody").append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "本期没有数据")));
}

async function ledger(period) {
  const l = await api(`console/rewards/${period}`);
  $("#fund").textContent = `奖惩资金 ${l.fund_yuan} 元 · 结余 ${l.unallocated_yuan} 元 · 规则 ${l.rules_version}`;
  $("#ledger tbody").replaceChildren(...l.totals.map((t) => el("tr", {}, el("td", {}, t.unit_label), el("td", {}, t.name), el("td", {}, t.points),
    el("td", {}, t.award_yuan), el("td", {}, t.deducted_yuan), el("td", {}, t.yuan), el("td", {}, t.from_deposit_yuan))));
  $("#entries tbody").replaceChildren(...l.entries.map((e) => el("tr", {}, el("td", {}, e.name), el("td", {}, e.layer), el("td", {}, e.outcome_name),
    el("td", {}, e.case_no ? el("a", { href: `case.html?no=${e.case_no}` }, e.case_no) : "—"), el("td", {}, e.points), el("td", {}, e.yuan))));
}

async function campaignList(period) {
  const list = await api(`console/campaigns?period=${(period.match(/^\d{4}-\d{2}/) || [period.slice(0, 4)])[0]}`);
  $("#campaigns").replaceChildren(...list.map((c) => el("div", { class: "campaign", dataset: { code: c.code } },
    el("h3", {}, `${c.name} `, el("span", { class: "muted" }, `${c.first_day}～${c.last_day} · ${c.headquarters}`)),
    el("p", {}, `案件 ${c.cases} 件，办结 ${c.closed} 件，督办 ${c.urged} 件，得分 ${c.score === null ? "—" : c.score.toFixed(1)}`),
    el("ul", {}, ...c.targets.map((t) => el("li", {}, `${t.name}：目标 ${goal(t, t.goal)}，实际 ${goal(t, t.actual)}`,
      el("progress", { max: 1, value: Math.min(1, t.achievement ?? 0) })))))));
  if (!list.length) $("#campaigns").append(el("p", { class: "muted" }, "没有专项行动"));
}

async function show(event) {
  if (event) event.preventDefault();
  const period = form.period.value.trim();
  await ranking(period, form.object_type.value);
  await Promise.all([appeals(period), ledger(period), campaignList(period)]);
}

form.addEventListener("submit", (e) => show(e).catch(showError));
show()
  .catch(showError)
  .finally(() => (document.body.dataset.ready = "1"));
