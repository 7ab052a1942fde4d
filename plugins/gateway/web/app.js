// The dashboard: a login form, a menu of pages, one page at a time
// (#/command, #/rehab, #/legal, #/collab, #/audit, #/system).
import { t, lang, setLang } from "./i18n.js";
import * as api from "./api.js";
import { el } from "./ui.js";

const pages = ["command", "rehab", "legal", "collab", "audit", "system"];
let cleanup = null;

function labels() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("app.title") + " · " + t("nav." + current());
  for (const n of document.querySelectorAll("[data-t]")) n.textContent = t(n.dataset.t);
  document.getElementById("lang").textContent = t("lang.other");
  const nav = document.getElementById("nav");
  nav.replaceChildren(...(api.me ? pages.map((p) => el("a", { href: "#/" + p, id: "nav-" + p,
    class: p === current() ? "on" : null, text: t("nav." + p) })) : []));
  const who = document.getElementById("who");
  who.textContent = api.me ? `${api.me.name || api.me.user} · ${(api.me.roles || []).join(", ")}` : "";
  document.getElementById("logout").hidden = !api.me;
}
function current() {
  const p = (location.hash.match(/^#\/(\w+)/) || [])[1];
  return pages.includes(p) ? p : "command";
}
export function setLive(on, reason) {
  const n = document.getElementById("live");
  n.className = "live " + (on ? "on" : "off");
  n.dataset.t = on ? "live.on" : "live.off";
  n.textContent = t(n.dataset.t);
  n.title = reason || "";
}
function loginForm(msg) {
  const main = document.getElementById("main");
  main.className = "single";
  const user = el("input", { id: "login-user", name: "user", autocomplete: "username", required: true });
  const pw = el("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const note = el("p", { class: "err", id: "login-error", text: msg || "" });
  const form = el("form", { class: "login", id: "login-form" },
    el("h2", { text: t("login.title") }),
    el("label", {}, t("login.user"), user), el("label", {}, t("login.password"), pw),
    el("button", { type: "submit", id: "login-submit", text: t("login.submit") }), note);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await api.login(user.value, pw.value);
    if (!r.ok) { note.textContent = t("login.failed", { msg: api.errText(r) }); return; }
    route();
  });
  main.replaceChildren(form);
  labels();
}
async function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  if (!api.me) { loginForm(); return; }
  labels();
  const main = document.getElementById("main");
  main.className = "";
  main.replaceChildren();
  const mod = await import("./pages/" + current() + ".js");
  cleanup = mod.render(main, { setLive }) || null;
}
document.getElementById("lang").addEventListener("click", () => { setLang(lang === "zh" ? "en" : "zh"); route(); });
document.getElementById("logout").addEventListener("click", async () => { await api.logout(); route(); });
window.addEventListener("hashchange", route);
api.whoami().then(route);
