// 系统: the node's plugins, states (quarantined shown as such), queues,
// drops, the bus and its links (xz.sys.status).
import { t } from "../i18n.js";
import { call, errText } from "../api.js";
import { el, panel, table } from "../ui.js";
export function render(main) {
  const pl = panel("sys.plugins", { wide: true, id: "plugins" });
  const bus = panel("sys.bus", { id: "bus" });
  main.append(pl.node, bus.node);
  async function load() {
    const r = await call("xz.sys.status", {});
    if (!r.ok) { pl.body.replaceChildren(el("p", { class: "err", text: errText(r) })); return; }
    const s = r.data;
    pl.body.replaceChildren(el("p", { class: "muted", text: `${t("sys.node")} ${s.node} · ${s.version} · ${t("sys.uptime", { s: Math.round(s.uptime_ms / 1000) })}` }),
      table([{ key: "name", label: "col.plugin" }, { key: "version", label: "col.version" },
        { key: "state", label: "col.state", render: (p) => (p.counters && p.counters.lua_quarantined > 0) ? `${p.state} (${t("sys.quarantined")})` : p.state },
        { key: "queue_depth", label: "col.queue", render: (p) => `${p.queue_depth}/${p.queue_capacity}` },
        { key: "handled", label: "col.handled" }, { key: "dropped", label: "col.dropped" },
        { key: "backpressure_timeouts", label: "col.timeouts" },
        { key: "counters", label: "col.counters", render: (p) => Object.entries(p.counters || {}).map(([k, v]) => `${k}=${v}`).join(" ") }],
      s.plugins));
    bus.body.replaceChildren(table([{ key: "k", label: "col.name" }, { key: "v", label: "col.value" }],
      Object.entries(s.bus || {}).map(([k, v]) => ({ k, v }))));
  }
  load();
  const tm = setInterval(load, 5000);
  return () => clearInterval(tm);
}
