-- alarm_sla_report.lua - a periodic report of the command center's
-- alarms: open alarms per level and the SLA breaches and escalations of
-- the period.
--
--   published  prison.report.sla (option topic) every every_s seconds:
--     {"at_ms":MS,"window_ms":N,"open_total":N,"open":{"1":N,"2":N,"3":N},
--      "by_state":{"RAISED":N,...},"breaches_total":N,
--      "breaches":{"1":N,...},"breaches_by_stage":{"acknowledge":N,
--      "dispatch":N},"escalations":N}
--   request    <topic>.get -> the same for the period so far
--
-- Open alarms come from prison.alarm.stats (the store). Breaches and
-- escalations come from prison.alarm.sla-breached and
-- prison.alarm.escalated, through durable subscriptions: this report is
-- how the leadership learns that a clock was missed, so a breach must not
-- vanish because the node died between the prison's commit and this
-- script's count. Where the node lists prison.alarm.> in bus.durable,
-- each such event waits in the node's durable log until the handler has
-- stored it here (one row per message id, so an event delivered again
-- after a crash is counted once), and the period's counts are read from
-- those rows (the period's start is stored too, so a restart loses
-- nothing of it).
local cfg
local OPEN = { RAISED = true, ACKNOWLEDGED = true, DISPATCHED = true,
	ON_SCENE = true, HANDLING = true, REOPENED = true }
local since
-- Rows older than this before the period's start are forgotten: a
-- redelivery comes within a restart or 30 s, far inside it.
local KEEP_MS = 86400000

local function reset(now)
	since = now
	xz.db.exec("INSERT OR REPLACE INTO sla_state(k, v) VALUES('since', ?)",
		now)
	xz.db.exec("DELETE FROM sla_seen WHERE at_ms < ?", now - KEEP_MS)
end

-- One row per event id: false when it was taken before (a redelivery).
local function take(msg, kind, level, stage)
	return xz.db.exec("INSERT OR IGNORE INTO sla_seen(id, kind, level, "
		.. "stage, at_ms) VALUES(?, ?, ?, ?, ?)", msg.id, kind, level,
		stage, xz.now()) > 0
end

local function report()
	local now = xz.now()
	local breaches, by_stage, escalations, total = {}, {}, 0, 0
	for _, row in ipairs(xz.db.query("SELECT kind, level, stage, count(*) "
		.. "AS n FROM sla_seen WHERE at_ms >= ? GROUP BY kind, level, "
		.. "stage", since)) do
		if row.kind == "breach" then
			breaches[row.level] = (breaches[row.level] or 0) + row.n
			by_stage[row.stage] = (by_stage[row.stage] or 0) + row.n
			total = total + row.n
		else
			escalations = escalations + row.n
		end
	end
	local r = { at_ms = now, window_ms = now - since, open = {},
		open_total = 0, by_state = {}, breaches = breaches,
		breaches_by_stage = by_stage, escalations = escalations,
		breaches_total = total }
	local st, err, msg = xz.request("prison.alarm.stats", { actor = {
		user = "script:alarm_sla_report", role = "SYSTEM",
		agency = "prison-01" } },
		cfg.timeout_ms)
	if not st then
		r.error = tostring(err) .. ": " .. tostring(msg)
		return r
	end
	for state, levels in pairs(st.by_state) do
		local n = 0
		for level, count in pairs(levels) do
			n = n + count
			if OPEN[state] then
				r.open[level] = (r.open[level] or 0) + count
				r.open_total = r.open_total + count
			end
		end
		r.by_state[state] = n
	end
	return r
end

return {
	name = "alarm_sla_report",
	version = "1.0",
	description = "open alarms per level and SLA breaches, periodically",
	options = {
		{ name = "every_s", type = "int", default = 60, min = 1,
		  max = 86400, description = "report period in seconds" },
		{ name = "topic", type = "string", default = "prison.report.sla",
		  description = "where the report is published" },
		{ name = "timeout_ms", type = "int", default = 5000, min = 100,
		  max = 60000, description = "deadline of prison.alarm.stats" },
	},
	init = function(c)
		cfg = c
		xz.db.exec("CREATE TABLE IF NOT EXISTS sla_seen(id TEXT PRIMARY "
			.. "KEY, kind TEXT NOT NULL, level TEXT NOT NULL, stage TEXT "
			.. "NOT NULL, at_ms INTEGER NOT NULL);"
			.. "CREATE TABLE IF NOT EXISTS sla_state(k TEXT PRIMARY KEY, "
			.. "v INTEGER NOT NULL)")
		local st = xz.db.query("SELECT v FROM sla_state WHERE k = 'since'")
		if st[1] then
			since = st[1].v
		else
			reset(xz.now())
		end
		-- A handler that returns acknowledges the event; one that raises
		-- (the store failed) does not, and the event comes again.
		xz.subscribe_durable("prison.alarm.sla-breached",
			function(d, _, _, _, msg)
				take(msg, "breach", tostring(d.level or 0),
					d.stage or "unknown")
			end)
		xz.subscribe_durable("prison.alarm.escalated",
			function(_, _, _, _, msg)
				take(msg, "escalation", "", "")
			end)
		xz.subscribe(cfg.topic .. ".get", function()
			return report()
		end)
		xz.timer.every(cfg.every_s * 1000, function()
			local r = report()
			xz.publish(cfg.topic, r)
			reset(r.at_ms)
		end)
	end,
}
