// 法律服务: 12348 requests and legal-aid applications with their statutory
// clocks (green / amber within a day / red overdue, counting down live),
// provider assignment.
import { t, tOr } from "../i18n.js";
import { call } from "../api.js";
import { el, panel, listInto } from "../ui.js";

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
export function render(main) {
  const rq = panel("legal.requests", { id: "requests" });
  const aid = panel("legal.aid", { id: "aid" });
  const pv = panel("legal.providers", { id: "providers" });
  main.append(rq.node, aid.node, pv.node);
  const cols = [{ key: "id", label: "col.id" }, { key: "applicant_type", label: "col.type" },
    { key: "state", label: "col.state" }, { key: "due_ms", label: "col.clock", render: clock }];
  const risk = el("p", { id: "clock-stats", class: "muted" });
  aid.body.before(risk);
  (async () => {
    // the clocks at risk, and the node's clock, so that a countdown
    // matches the plugin's timers (a test node's clock may be moved)
    const st = await call("legal.clock.stats", {});
    if (st.ok) {
      if (st.data.now_ms) offset = st.data.now_ms - Date.now();
      risk.textContent = t("legal.stats", st.data);
    }
    await Promise.all([
      listInto(rq.body, "legal.request.list", {}, cols),
      listInto(aid.body, "legal.aid.list", {}, cols),
      listInto(pv.body, "legal.provider.list", {}, [
        { key: "id", label: "col.id" }, { key: "name", label: "col.name" }, { key: "type", label: "col.type" },
        { key: "active", label: "col.state" }])]);
    tick(main);
  })();
  const timer = setInterval(() => tick(main), 1000);
  return () => clearInterval(timer);
}
