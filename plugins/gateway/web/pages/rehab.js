// 戒毒: residents by phase, pending assessments with AI+AR scores,
// dispositions awaiting approval; the actions of the user's role (the
// rehab plugin's routes: the officer advances a phase, the centre leader
// approves or rejects a scored assessment and submits or withdraws a
// proposed disposition, which goes to the deciding authority).
import { panel, listInto, actionCell } from "../ui.js";
import { events } from "../api.js";

const PHASES = ["PHYSIOLOGICAL_DETOX", "EDUCATION_ADAPTATION", "REHABILITATION_CONSOLIDATION"];
const RESIDENT = [{ topic: "rehab.resident.advance", name: "advance", roles: ["rehab_officer"], states: PHASES }];
const ASSESSMENT = [
  { topic: "rehab.assessment.approve", name: "approve", roles: ["rehab_leader"], states: ["SCORED"] },
  { topic: "rehab.assessment.reject", name: "reject", roles: ["rehab_leader"], states: ["SCORED"] },
];
const DISPOSITION = [
  { topic: "rehab.disposition.submit", name: "submit", roles: ["rehab_leader"], states: ["PROPOSED"] },
  { topic: "rehab.disposition.withdraw", name: "withdraw", roles: ["rehab_leader"], states: ["PROPOSED"] },
];
export function render(main, ctx) {
  const res = panel("rehab.residents", { id: "residents" });
  const as = panel("rehab.assessments", { id: "assessments" });
  const dis = panel("rehab.dispositions", { id: "dispositions" });
  main.append(res.node, as.node, dis.node);
  const act = (defs) => ({ key: "actions", label: "col.actions", render: (r) => actionCell(r, defs, load) });
  function load() {
    listInto(res.body, "rehab.resident.list", { limit: 50 }, [
      { key: "id", label: "col.id" }, { key: "name", label: "col.name" }, { key: "phase", label: "col.phase" },
      { key: "state", label: "col.state" }, act(RESIDENT)]);
    listInto(as.body, "rehab.assessment.list", { limit: 50 }, [
      { key: "id", label: "col.id" }, { key: "owner", label: "col.subject" }, { key: "state", label: "col.state" },
      { key: "score", label: "col.score", render: (r) => r.score ?? r.ai_score ?? (r.scores ? JSON.stringify(r.scores) : "") },
      act(ASSESSMENT)]);
    listInto(dis.body, "rehab.disposition.list", { limit: 50 }, [
      { key: "id", label: "col.id" }, { key: "owner", label: "col.subject" }, { key: "type", label: "col.type" },
      { key: "state", label: "col.state" }, act(DISPOSITION)]);
  }
  load();
  // live: a change of any rehab record re-reads the lists
  return events("rehab.>", () => load(), (live, reason) => { ctx.setLive(live, reason); if (live) load(); });
}
