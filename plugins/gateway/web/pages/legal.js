// 法律服务: 12348 requests and legal-aid applications with their statutory
// clocks (green / amber / red), provider assignment.
import { el, panel, listInto } from "../ui.js";
function clock(r) {
  const due = r.due_ms || r.deadline_ms || (r.clock && r.clock.due_ms);
  if (!due) return "";
  const left = due - Date.now(), day = 86400000;
  const cls = left < 0 ? "red" : left < day ? "amber" : "green";
  return el("span", { class: "clock " + cls, text: new Date(due).toLocaleString() });
}
export function render(main) {
  const rq = panel("legal.requests", { id: "requests" });
  const aid = panel("legal.aid", { id: "aid" });
  const pv = panel("legal.providers", { id: "providers" });
  main.append(rq.node, aid.node, pv.node);
  const cols = [{ key: "id", label: "col.id" }, { key: "type", label: "col.type" },
    { key: "state", label: "col.state" }, { key: "due_ms", label: "col.clock", render: clock }];
  listInto(rq.body, "legal.request.list", { limit: 50 }, cols);
  listInto(aid.body, "legal.aid.list", { limit: 50 }, cols);
  listInto(pv.body, "legal.provider.list", { limit: 50 }, [
    { key: "id", label: "col.id" }, { key: "name", label: "col.name" }, { key: "state", label: "col.state" }]);
}
