// 协同: the agency's inbox and outbox of case transfers, with due dates.
import { panel, listInto } from "../ui.js";
export function render(main) {
  const inb = panel("collab.in", { id: "inbox" });
  const out = panel("collab.out", { id: "outbox" });
  main.append(inb.node, out.node);
  const cols = [{ key: "transfer_id", label: "col.id" }, { key: "type", label: "col.type" },
    { key: "from_agency", label: "col.from" }, { key: "to_agency", label: "col.to" },
    { key: "state", label: "col.state" }, { key: "due_ms", label: "col.due", render: (r) => r.due_at || r.due || (r.due_ms ? new Date(r.due_ms).toLocaleString() : "") }];
  listInto(inb.body, "collab.transfer.list", { direction: "in", limit: 50 }, cols, "transfers");
  listInto(out.body, "collab.transfer.list", { direction: "out", limit: 50 }, cols, "transfers");
}
