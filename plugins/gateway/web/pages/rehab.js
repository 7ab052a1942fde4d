// 戒毒: residents by phase, pending assessments with AI+AR scores,
// dispositions awaiting approval. Thin: whatever the lists return.
import { panel, listInto } from "../ui.js";
export function render(main) {
  const res = panel("rehab.residents", { id: "residents" });
  const as = panel("rehab.assessments", { id: "assessments" });
  const dis = panel("rehab.dispositions", { id: "dispositions" });
  main.append(res.node, as.node, dis.node);
  listInto(res.body, "rehab.resident.list", { limit: 50 }, [
    { key: "id", label: "col.id" }, { key: "name", label: "col.name" }, { key: "phase", label: "col.phase" },
    { key: "state", label: "col.state" }]);
  listInto(as.body, "rehab.assessment.list", { limit: 50 }, [
    { key: "id", label: "col.id" }, { key: "owner", label: "col.subject" }, { key: "state", label: "col.state" },
    { key: "score", label: "col.score", render: (r) => r.score ?? r.ai_score ?? (r.scores ? JSON.stringify(r.scores) : "") }]);
  listInto(dis.body, "rehab.disposition.list", { limit: 50 }, [
    { key: "id", label: "col.id" }, { key: "owner", label: "col.subject" }, { key: "type", label: "col.type" },
    { key: "state", label: "col.state" }]);
}
