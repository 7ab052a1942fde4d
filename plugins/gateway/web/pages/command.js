// 指挥中心: the live alarm board (level colours, SLA countdown, escalations
// flashing, one-click actions of the user's role), the location tree with
// the open alarms on it, roll calls, incident drafts, the shift's numbers.
import { t, tState, tOr } from "../i18n.js";
import { call, events, errText, hasRole } from "../api.js";
import { el, panel, toast, listInto, fmtTime } from "../ui.js";

// Who may do what (the prison plugin's routes; the server checks again),
// the states each action applies to when the record has no `allowed`, and
// what the action asks for.
export const ACTIONS = [
  { name: "acknowledge", roles: ["command_duty", "duty_leader"], states: ["RAISED", "REOPENED"] },
  { name: "dispatch", roles: ["command_duty", "duty_leader"], states: ["ACKNOWLEDGED"], ask: ["unit", "ask.unit", "team-1"] },
  { name: "arrive", roles: ["area_officer", "command_duty"], states: ["DISPATCHED"] },
  { name: "handle", roles: ["area_officer", "command_duty"], states: ["ON_SCENE"] },
  { name: "resolve", roles: ["command_duty", "duty_leader", "area_officer"], states: ["HANDLING"], ask: ["outcome", "ask.outcome", ""] },
  { name: "dismiss", roles: ["command_duty", "duty_leader"], states: ["RAISED", "ACKNOWLEDGED"], ask: ["reason", "ask.reason", ""] },
];
const CLOSED = ["RESOLVED", "DISMISSED", "CLOSED"];

export function render(main, ctx) {
  const alarms = new Map();
  let offset = 0; // server clock - browser clock
  const board = panel("cc.board", { wide: true, id: "board" });
  const shift = panel("cc.shift", { id: "shift" });
  const tree = panel("cc.tree", { id: "tree" });
  const rc = panel("cc.rollcalls", { id: "rollcalls" });
  const inc = panel("cc.incidents", { id: "incidents" });
  main.append(board.node, shift.node, tree.node, rc.node, inc.node);
  const now = () => Date.now() + offset;

  function allowed(a, act) {
    if (typeof a.allowed === "string") return a.allowed.split(/,\s*/).includes(act.name);
    return act.states.includes(a.state);
  }
  async function act(a, action) {
    const body = { id: a.id };
    if (action.ask) {
      const v = window.prompt(t(action.ask[1]), action.ask[2]);
      if (v === null) return;
      body[action.ask[0]] = v;
    }
    const r = await call("prison.alarm." + action.name, body);
    if (!r.ok) { toast(t("failed", { action: t("act." + action.name), msg: errText(r) })); return; }
    alarms.set(r.data.id, r.data);
    toast(t("done", { action: t("act." + action.name), id: r.data.id, state: tState(r.data.state) }));
    draw();
  }
  function sla(a) {
    if (!a.due_ms || CLOSED.includes(a.state)) return el("span", { class: "muted", text: "—" });
    const left = Math.round((a.due_ms - now()) / 1000);
    const s = Math.abs(left);
    const txt = (left < 0 ? "-" : "") + String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
    return el("span", { class: "sla " + (left < 0 ? "late" : "ok"), text: txt + (a.sla_stage ? " " + tOr("stage." + a.sla_stage, a.sla_stage) : "") });
  }
  function draw() {
    const open = [...alarms.values()].filter((a) => !CLOSED.includes(a.state))
      .sort((x, y) => (y.level - x.level) || ((x.due_ms || 0) - (y.due_ms || 0)));
    board.body.replaceChildren(open.length === 0 ? el("p", { class: "muted", id: "board-empty", text: t("cc.none") }) :
      el("table", { id: "alarm-table" },
        el("thead", {}, el("tr", {}, ["col.level", "col.id", "col.kind", "col.location", "col.state", "col.sla", "col.actions"].map((k) => el("th", { text: t(k) })))),
        el("tbody", {}, open.map((a) => el("tr", { class: "alarm" + (a.escalations > 0 ? " escalated" : ""), id: "alarm-" + a.id, "data-state": a.state },
          el("td", {}, el("span", { class: "lv lv" + a.level, text: t("level." + a.level) })),
          el("td", { text: a.id }), el("td", { text: tOr("kind." + a.kind, a.kind || "") }), el("td", { text: a.location || "" }),
          el("td", { class: "state", text: tState(a.state) }),
          el("td", { class: "sla-cell" }, sla(a)),
          el("td", {}, ACTIONS.filter((x) => hasRole(x.roles) && allowed(a, x)).map((x) =>
            el("button", { class: "act", type: "button", "data-action": x.name, onclick: () => act(a, x), text: t("act." + x.name) }))))))));
    // the shift
    const all = [...alarms.values()];
    const day = new Date(now()); day.setHours(0, 0, 0, 0);
    const kpi = (k, v, id) => el("div", { class: "kpi", id }, el("b", { text: String(v) }), t(k));
    shift.body.replaceChildren(el("div", { class: "kpis" },
      kpi("cc.open", open.length, "kpi-open"),
      kpi("cc.breached", open.filter((a) => a.due_ms && a.due_ms < now()).length, "kpi-breached"),
      kpi("cc.today", all.filter((a) => (a.raised_ms || a.created_ms || 0) >= day.getTime()).length, "kpi-today"),
      ...[3, 2, 1].map((l) => kpi("level." + l, open.filter((a) => a.level === l).length))));
    // the location tree: prison → area → sub-area → cell, from the dotted ids
    const root = {};
    for (const a of open) {
      let n = root;
      for (const part of String(a.location || "?").split(".")) { n[part] = n[part] || { _: [] }; n = n[part]; }
      n._.push(a);
    }
    const ul = (n) => el("ul", {}, Object.keys(n).filter((k) => k !== "_").sort().map((k) =>
      el("li", {}, k, " ", n[k]._.map((a) => el("span", { class: "lv lv" + a.level, title: a.id, text: a.id })), ul(n[k]))));
    tree.body.replaceChildren(el("div", { class: "tree" }, ul(root)));
  }
  async function loadAlarms() {
    const first = await call("prison.alarm.list", { limit: 50 });
    if (!first.ok) { board.body.replaceChildren(el("p", { class: "err", text: t("err.load", { topic: "prison.alarm.list", msg: errText(first) }) })); return; }
    let items = first.data.items || [];
    if (first.data.total > items.length) {
      const last = await call("prison.alarm.list", { limit: 50, offset: first.data.total - 50 });
      if (last.ok) items = last.data.items || [];
    }
    alarms.clear();
    for (const a of items) alarms.set(a.id, a);
    draw();
  }
  async function loadSide() {
    listInto(rc.body, "prison.rollcall.list", { limit: 20 }, [
      { key: "id", label: "col.id" }, { key: "location", label: "col.location" }, { key: "state", label: "col.state" },
      { key: "at_ms", label: "col.time" }]);
    listInto(inc.body, "prison.incident.list", { state: "DRAFT", limit: 20 }, [
      { key: "id", label: "col.id" }, { key: "type", label: "col.type" }, { key: "location", label: "col.location" },
      { key: "alarm_id", label: "col.subject" }]);
  }
  async function loadAll() {
    const st = await call("prison.alarm.stats", {});
    if (st.ok && st.data.now_ms) offset = st.data.now_ms - Date.now();
    await loadAlarms();
    loadSide();
  }
  async function refresh(id) {
    const r = await call("prison.alarm.get", { id, history: false });
    if (r.ok) { alarms.set(r.data.id, r.data); draw(); }
  }
  const stop = events("prison.>", (ev) => {
    const m = /^prison\.alarm\./.exec(ev.topic);
    if (m && ev.data && ev.data.id) refresh(ev.data.id);
    else if (/^prison\.(rollcall|incident)\./.test(ev.topic)) loadSide();
  }, (live, reason) => {
    ctx.setLive(live, reason);
    if (!live && reason) { toast(t("events.closed", { reason })); }
    if (live) loadAll(); // (re)connected: re-read, so nothing is missed
  });
  const tick = setInterval(() => {
    for (const a of alarms.values()) {
      const row = document.getElementById("alarm-" + a.id);
      if (row) row.querySelector(".sla-cell").replaceChildren(sla(a));
    }
  }, 1000);
  loadAll();
  return () => { stop(); clearInterval(tick); };
}
