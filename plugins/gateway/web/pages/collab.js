// 协同: the agency's inbox and outbox of case transfers, with due dates,
// and the case clerk's actions (docs/collab.md, "States and who may act":
// the receiver receives, accepts, returns with a reason, decides; either
// side closes a decided or returned transfer).
import { panel, listInto, actionCell } from "../ui.js";
import { events } from "../api.js";

const CLERK = ["case_clerk"];
const INBOX = [
  { topic: "collab.transfer.receive", name: "receive", roles: CLERK, states: ["SENT"], idKey: "transfer_id" },
  { topic: "collab.transfer.accept", name: "accept", roles: CLERK, states: ["RECEIVED", "PARTIALLY_ACCEPTED"], idKey: "transfer_id" },
  { topic: "collab.transfer.return", name: "return", roles: CLERK, states: ["RECEIVED", "PARTIALLY_ACCEPTED"], idKey: "transfer_id",
    ask: ["reason", "ask.reason_return", ""] },
  { topic: "collab.transfer.decide", name: "decide", roles: CLERK, states: ["ACCEPTED", "PARTIALLY_ACCEPTED"], idKey: "transfer_id",
    ask: ["decision", "ask.decision", "APPROVED"] },
  { topic: "collab.transfer.close", name: "close", roles: CLERK, states: ["DECIDED", "RETURNED"], idKey: "transfer_id" },
];
const OUTBOX = [
  { topic: "collab.transfer.close", name: "close", roles: CLERK, states: ["DECIDED", "RETURNED"], idKey: "transfer_id" },
];
export function render(main, ctx) {
  const inb = panel("collab.in", { id: "inbox" });
  const out = panel("collab.out", { id: "outbox" });
  main.append(inb.node, out.node);
  const cols = (defs) => [{ key: "transfer_id", label: "col.id" }, { key: "type", label: "col.type" },
    { key: "from_agency", label: "col.from" }, { key: "to_agency", label: "col.to" },
    { key: "state", label: "col.state" },
    { key: "due_ms", label: "col.due", render: (r) => r.due_at || r.due || (r.due_ms ? new Date(r.due_ms).toLocaleString() : "") },
    { key: "actions", label: "col.actions", render: (r) => actionCell(r, defs, load) }];
  function load() {
    listInto(inb.body, "collab.transfer.list", { direction: "in", limit: 50 }, cols(INBOX), "transfers");
    listInto(out.body, "collab.transfer.list", { direction: "out", limit: 50 }, cols(OUTBOX), "transfers");
  }
  load();
  return events("collab.>", () => load(), (live, reason) => { ctx.setLive(live, reason); if (live) load(); });
}
