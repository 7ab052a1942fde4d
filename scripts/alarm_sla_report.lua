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
-- Open alarms come from prison.alarm.stats (the store); breaches and
-- escalations are counted from prison.alarm.sla-breached and
-- prison.alarm.escalated as they happen.
local cfg
local OPEN = { RAISED = true, ACKNOWLEDGED = true, DISPATCHED = true,
	ON_SCENE = true, HANDLING = true, REOPENED = true }
local breaches, by_stage, escalations, since

local function reset(now)
	breaches, by_stage, escalations, since = {}, {}, 0, now
end

local function report()
	local now = xz.now()
	local r = { at_ms = now, window_ms = now - since, open = {},
		open_total = 0, by_state = {}, breaches = breaches,
		breaches_by_stage = by_stage, escalations = escalations }
	local total = 0
	for _, n in pairs(breaches) do
		total = total + n
	end
	r.breaches_total = total
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
		reset(xz.now())
		xz.subscribe("prison.alarm.sla-breached", function(d)
			local level = tostring(d.level or 0)
			breaches[level] = (breaches[level] or 0) + 1
			local stage = d.stage or "unknown"
			by_stage[stage] = (by_stage[stage] or 0) + 1
		end)
		xz.subscribe("prison.alarm.escalated", function()
			escalations = escalations + 1
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
