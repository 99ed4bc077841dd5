// Small DOM helpers, formatting in Asia/Shanghai, and the shared top bar.
import { logout, session } from "./api.js";
import { ROLE_LABELS } from "./labels.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "html") node.innerHTML = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

const TIME = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
});

export function when(iso) {
  return iso ? TIME.format(new Date(iso)) : "—";
}

/** "剩余 2小时05分" or "超期 1天3小时" from seconds left. */
export function countdown(seconds) {
  if (seconds === null || seconds === undefined) return "计时暂停";
  const late = seconds < 0;
  let s = Math.abs(Math.round(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s - h * 3600) / 60);
  const text = d ? `${d}天${h}小时` : h ? `${h}小时${String(m).padStart(2, "0")}分` : `${m}分`;
  return late ? `超期 ${text}` : `剩余 ${text}`;
}

export function toast(message, kind = "info") {
  let box = $("#toast");
  if (!box) {
    box = el("div", { id: "toast", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  box.textContent = message;
  box.className = `show ${kind}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.className = ""), 4000);
}

export function showError(error) {
  toast(error && error.message ? error.message : String(error), "error");
}

const LINKS = [
  ["command.html", "指挥大屏", ["leader", "shift_leader", "dispatcher", "acceptor", "admin"]],
  ["work.html", "工作台", ["acceptor", "shift_leader", "dispatcher", "handler", "leader", "admin"]],
  ["field.html", "监督员", ["supervisor"]],
  ["evaluation.html", "考核评价", ["leader", "shift_leader", "admin"]],
  ["admin.html", "系统管理", ["admin"]],
];

export function topBar(title) {
  const me = session();
  const roles = me ? me.roles : [];
  const nav = LINKS.filter(([, , who]) => who.some((r) => roles.includes(r))).map(([href, label]) =>
    el("a", { href, class: location.pathname.endsWith(href) ? "active" : "" }, label),
  );
  const bar = el(
    "header",
    { class: "topbar" },
    el("strong", {}, "绣花 · ", title),
    el("nav", {}, nav),
    me
      ? el("span", { class: "who" }, `${me.username}（${roles.map((r) => ROLE_LABELS[r] || r).join("、")}）`,
          el("button", { type: "button", class: "link", onclick: logout }, "退出"))
      : "",
  );
  document.body.prepend(bar);
  return bar;
}

export async function imageUrl(fetchBlob) {
  return URL.createObjectURL(await fetchBlob());
}
