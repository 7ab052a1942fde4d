// Small DOM helpers shared by the pages (no framework).
import { t, tState } from "./i18n.js";
import { call, errText, hasRole } from "./api.js";

export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
export function panel(titleKey, opts) {
  const body = el("div", { class: "body" });
  const p = el("section", { class: "panel" + (opts && opts.wide ? " wide" : ""), id: opts && opts.id },
    el("h2", { text: t(titleKey) }), body);
  return { node: p, body };
}
export function toast(msg) {
  const box = document.getElementById("toast");
  const d = el("div", { text: msg });
  box.append(d);
  setTimeout(() => d.remove(), 6000);
}
export function fmtTime(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  return d.toLocaleString(document.documentElement.lang || "zh-CN", { hour12: false });
}
// A value for a table cell: states through the catalog, objects as JSON.
export function cell(v, key) {
  if (v === undefined || v === null) return "";
  if (key === "state" || key === "phase") return tState(v);
  if (/_ms$/.test(key) && typeof v === "number") return fmtTime(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
// Columns: [{key, label}]; rows: array of objects; extra(row) -> node.
export function table(columns, rows, extra) {
  if (!rows || rows.length === 0) return el("p", { class: "muted", text: t("empty") });
  return el("table", {},
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { text: t(c.label) })))),
    el("tbody", {}, rows.map((r) => el("tr", {},
      columns.map((c) => el("td", { class: c.key === "state" ? "state" : null },
        c.render ? c.render(r) : cell(r[c.key], c.key)))))));
}
// A panel that lists one request's items (a `.list` reply, or any array
// field named by `field`); shows the error when the request fails.
export async function listInto(target, topic, body, columns, field) {
  const r = await call(topic, body);
  target.replaceChildren();
  if (!r.ok) { target.append(el("p", { class: "err", text: t("err.load", { topic, msg: errText(r) }) })); return null; }
  const rows = field ? r.data[field] : (r.data.items || r.data.records || r.data);
  target.append(table(columns, Array.isArray(rows) ? rows : []));
  return r.data;
}
// The one-click actions a role may take on a record of a list (the
// plugins' role tables, which the server checks again): defs is
// [{topic, name, roles, states, ask: [field, promptKey, default], idKey}].
// Only the actions of the user's roles in the record's state are offered;
// done(reply) runs after one succeeds (a reload of the list).
export function actionCell(row, defs, done) {
  return defs.filter((d) => hasRole(d.roles) && d.states.includes(row.state)).map((d) =>
    el("button", { class: "act", type: "button", "data-action": d.name, onclick: async () => {
      const key = d.idKey || "id";
      const body = { [key]: row[key] };
      if (d.ask) {
        const v = window.prompt(t(d.ask[1]), d.ask[2] || "");
        if (v === null) return;
        body[d.ask[0]] = v;
      }
      const r = await call(d.topic, body);
      if (!r.ok) { toast(t("failed", { action: t("act." + d.name), msg: errText(r) })); return; }
      toast(t("done", { action: t("act." + d.name), id: row[key], state: tState(r.data.state || "") }));
      if (done) done(r.data);
    }, text: t("act." + d.name) }));
}
