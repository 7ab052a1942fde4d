// 审计: query by subject or actor with a purpose; chain verification.
import { t } from "../i18n.js";
import { call, errText } from "../api.js";
import { el, panel, table } from "../ui.js";
export function render(main) {
  const q = panel("audit.query", { wide: true, id: "audit-query" });
  const v = panel("audit.verify", { id: "audit-verify" });
  main.append(q.node, v.node);
  const subject = el("input", { id: "audit-subject", placeholder: "prisoner:A1234BC" });
  const who = el("input", { id: "audit-who" });
  const purpose = el("input", { id: "audit-purpose", required: true });
  const out = el("div");
  const form = el("form", {}, el("label", {}, t("audit.subject"), " ", subject), " ",
    el("label", {}, t("audit.actor"), " ", who), " ",
    el("label", {}, t("audit.purpose"), " ", purpose), " ",
    el("button", { type: "submit", text: t("audit.run") }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { purpose: purpose.value, limit: 100 };
    const [st, sid] = subject.value.split(":");
    if (sid) { body.subject_type = st; body.subject_id = sid; }
    if (who.value) body.who = who.value;
    const r = await call("audit.query", body);
    out.replaceChildren(r.ok ? table([{ key: "time", label: "col.time", render: (x) => new Date(x.time).toLocaleString() },
      { key: "who", label: "col.who" }, { key: "action", label: "col.action" },
      { key: "subject_id", label: "col.subject", render: (x) => `${x.subject_type}:${x.subject_id}` },
      { key: "outcome", label: "col.outcome" }], r.data.records) : el("p", { class: "err", text: errText(r) }));
  });
  q.body.append(form, out);
  const res = el("p", { id: "verify-result" });
  v.body.append(el("button", { type: "button", text: t("audit.check"), onclick: async () => {
    const r = await call("audit.verify", {});
    res.className = r.ok && r.data.ok ? "" : "err";
    res.textContent = !r.ok ? errText(r) : r.data.ok ? t("audit.ok", { n: r.data.records }) : t("audit.bad", { seq: r.data.first_bad_seq, reason: r.data.reason });
  } }), res);
}
