// Evaluation: rankings per period and object type, drill-down to cases, the reward ledger, campaigns.
import { api, requireLogin } from "./api.js";
import { $, el, showError, topBar } from "./ui.js";

requireLogin();
topBar("考核评价");
const form = $("#pick");
const month = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit" }).format(new Date());
form.period.value = new URLSearchParams(location.search).get("period") || month;
const pct = (v) => (v === null || v === undefined ? "—" : Math.abs(v) <= 1 ? `${(v * 100).toFixed(1)}%` : v.toFixed(2));

async function drill(period, type, code, indicator, name) {
  const d = await api(`console/evaluation/${period}/drill?object_type=${type}&code=${encodeURIComponent(code)}&indicator=${indicator}`);
  const links = (nos) => nos.slice(0, 200).map((no) => el("a", { href: `case.html?no=${no}`, style: "margin-right:6px" }, no));
  $("#drill").replaceChildren(el("h3", {}, `${name} · ${d.name}`),
    el("p", {}, `分子（${d.numerator}）${d.numerator_cases.length} 件：`, ...links(d.numerator_cases)),
    d.denominator ? el("p", {}, `分母（${d.denominator}）${d.denominator_cases.length} 件：`, ...links(d.denominator_cases)) : "");
}

async function ranking(period, type) {
  const r = await api(`console/evaluation/${period}?object_type=${type}`);
  $("#summary").textContent = `${r.first_day} 至 ${r.last_day} · 案件 ${r.cases} 件 · 方案 ${r.scheme_version}${r.revision ? ` · 已冻结（第 ${r.revision} 版）` : " · 实时计算"}`;
  $("#ranking thead").replaceChildren(el("tr", {}, el("th", {}, "名次"), el("th", {}, r.object_label), el("th", {}, "综合得分"), el("th", {}, "等级"),
    ...r.indicators.map((i) => el("th", {}, i.name))));
  $("#ranking tbody").replaceChildren(...r.objects.map((o) => el("tr", { dataset: { code: o.code } }, el("td", {}, o.rank ?? "—"), el("td", {}, o.name),
    el("td", {}, o.composite === null ? "—" : o.composite.toFixed(1)), el("td", {}, o.grade),
    ...r.indicators.map((i) => el("td", {}, el("a", { href: "#", dataset: { indicator: i.code }, onclick: (e) => { e.preventDefault(); drill(period, type, o.code, i.code, o.name).catch(showError); } }, pct(o.values[i.code])))))));
  if (!r.objects.length) $("#ranking tbody").append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "本期没有数据")));
}

async function ledger(period) {
  const l = await api(`console/rewards/${period}`);
  $("#fund").textContent = `奖惩资金 ${l.fund_yuan} 元 · 规则 ${l.rules_version}`;
  $("#ledger tbody").replaceChildren(...l.totals.map((t) => el("tr", {}, el("td", {}, t.name), el("td", {}, t.points), el("td", {}, t.yuan))));
  $("#entries tbody").replaceChildren(...l.entries.map((e) => el("tr", {}, el("td", {}, e.department), el("td", {}, e.layer), el("td", {}, e.outcome),
    el("td", {}, e.case_no ? el("a", { href: `case.html?no=${e.case_no}` }, e.case_no) : "—"), el("td", {}, e.points), el("td", {}, e.yuan))));
}

async function campaignList(period) {
  const list = await api(`console/campaigns?period=${period.slice(0, 7)}`);
  $("#campaigns").replaceChildren(...list.map((c) => el("div", { class: "campaign", dataset: { code: c.code } },
    el("h3", {}, `${c.name} `, el("span", { class: "muted" }, `${c.first_day}～${c.last_day} · ${c.headquarters}`)),
    el("p", {}, `案件 ${c.cases} 件，办结 ${c.closed} 件，督办 ${c.urged} 件，得分 ${c.score === null ? "—" : c.score.toFixed(1)}`),
    el("ul", {}, ...c.targets.map((t) => el("li", {}, `${t.name}：目标 ${pct(t.goal)}，实际 ${pct(t.actual)}`,
      el("progress", { max: 1, value: Math.min(1, t.achievement ?? 0) })))))));
  if (!list.length) $("#campaigns").append(el("p", { class: "muted" }, "没有专项行动"));
}

async function show(event) {
  if (event) event.preventDefault();
  const period = form.period.value.trim();
  await Promise.all([ranking(period, form.object_type.value), ledger(period), campaignList(period)]);
}

form.addEventListener("submit", (e) => show(e).catch(showError));
show()
  .catch(showError)
  .finally(() => (document.body.dataset.ready = "1"));
