// 法律服务: 12348 requests and legal-aid applications with their statutory
// clocks (green / amber within a day / red overdue, counting down live),
// provider assignment.
import { t, tOr } from "../i18n.js";
import { call, events } from "../api.js";
import { el, panel, listInto, actionCell } from "../ui.js";

const DAY = 86400000;
let offset = 0; // server clock - browser clock (the node may run a test clock)

function left(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return (ms < 0 ? "-" : "") + (d > 0 ? t("legal.days", { d }) : "") +
    String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
}
// The cell of a record's clock: its name, the time left (negative: late)
// and the due time; data-due lets the ticker redraw it every second.
function clock(r) {
  if (!r.due_ms) return "";
  return el("span", { class: "clock", "data-due": String(r.due_ms),
    "data-status": r.clock_status || "RUNNING", "data-clock": r.clock || "",
    title: new Date(r.due_ms).toLocaleString(document.documentElement.lang) });
}
function tick(root) {
  const now = Date.now() + offset;
  for (const n of root.querySelectorAll("span.clock[data-due]")) {
    const rem = Number(n.dataset.due) - now;
    const breached = n.dataset.status === "BREACHED" || rem < 0;
    n.className = "clock " + (breached ? "red" : rem < DAY ? "amber" : "green");
    n.textContent = tOr("clock." + n.dataset.clock, n.dataset.clock) + " " +
      (n.dataset.status === "BREACHED" ? t("legal.breached") : left(rem));
  }
}
// The actions of the legal plugin's roles (its ACL and state machines,
// plugins/legal): the 12348 operator and the reviewer work requests; the
// reviewer receives and reviews applications, the centre head decides
// and assigns a provider (art. 43), the lawyer starts and closes service.
const CENTRE = ["hotline_operator", "legal_reviewer"];
const REQUEST = [
  { topic: "legal.request.assign", name: "assign", roles: CENTRE, states: ["NEW", "CALLBACK_PENDING"], ask: ["to", "ask.assignee", ""] },
  { topic: "legal.request.answer", name: "answer", roles: CENTRE, states: ["ASSIGNED", "CALLBACK_PENDING"], ask: ["answer", "ask.answer", ""] },
  { topic: "legal.request.close", name: "close", roles: CENTRE, states: ["ANSWERED", "REFERRED"] },
];
const AID = [
  { topic: "legal.aid.receive", name: "receive", roles: ["legal_reviewer"], states: ["FORWARDED"] },
  { topic: "legal.aid.start-review", name: "start-review", roles: ["legal_reviewer"], states: ["RECEIVED"] },
  { topic: "legal.aid.grant", name: "grant", roles: ["legal_head"], states: ["UNDER_REVIEW", "URGENT_SERVICE"] },
  { topic: "legal.aid.refuse", name: "refuse", roles: ["legal_head"], states: ["UNDER_REVIEW", "URGENT_SERVICE"], ask: ["reason", "ask.reason_refuse", ""] },
  { topic: "legal.aid.assign", name: "assign", roles: ["legal_head"], states: ["GRANTED", "OVERTURNED"] },
  { topic: "legal.aid.start-service", name: "start-service", roles: ["lawyer"], states: ["ASSIGNED"] },
  { topic: "legal.aid.close", name: "close", roles: ["lawyer"], states: ["IN_SERVICE"] },
];
export function render(main, ctx) {
  const rq = panel("legal.requests", { id: "requests" });
  const aid = panel("legal.aid", { id: "aid" });
  const pv = panel("legal.providers", { id: "providers" });
  main.append(rq.node, aid.node, pv.node);
  const cols = (defs) => [{ key: "id", label: "col.id" }, { key: "applicant_type", label: "col.type" },
    { key: "state", label: "col.state" }, { key: "due_ms", label: "col.clock", render: clock },
    { key: "actions", label: "col.actions", render: (r) => actionCell(r, defs, load) }];
  const risk = el("p", { id: "clock-stats", class: "muted" });
  aid.body.before(risk);
  async function load() {
    // the clocks at risk, and the node's clock, so that a countdown
    // matches the plugin's timers (a test node's clock may be moved)
    const st = await call("legal.clock.stats", {});
    if (st.ok) {
      if (st.data.now_ms) offset = st.data.now_ms - Date.now();
      risk.textContent = t("legal.stats", st.data);
    }
    await Promise.all([
      listInto(rq.body, "legal.request.list", {}, cols(REQUEST)),
      listInto(aid.body, "legal.aid.list", {}, cols(AID)),
      listInto(pv.body, "legal.provider.list", {}, [
        { key: "id", label: "col.id" }, { key: "name", label: "col.name" }, { key: "type", label: "col.type" },
        { key: "active", label: "col.state" }])]);
    tick(main);
  }
  load();
  const timer = setInterval(() => tick(main), 1000);
  const stop = events("legal.>", () => load(), (live, reason) => { ctx.setLive(live, reason); if (live) load(); });
  return () => { clearInterval(timer); stop(); };
}
