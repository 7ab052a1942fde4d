-- rollcall_escalation.lua - a roll-call discrepancy that is not reconciled
-- within escalate_after_s escalates the alarm it raised, one level per
-- period, until the roll call is reconciled or the alarm is at level 3
-- (or closed).
--
--   listens   prison.rollcall.discrepancy-found  {"id","alarm_id",...}
--             prison.rollcall.reconciled         {"id",...}
--   requests  prison.rollcall.get, prison.rollcall.list, prison.alarm.escalate
--             {"id":alarm,"reason":"roll call RC-.. not reconciled within N s",
--              "actor":{"user":"script:rollcall_escalation","role":"SYSTEM"}}
--
-- Timers run on the node's clock (xz.now), so a test can advance it. After
-- a restart or a reload the open discrepancies are read back from the
-- prison plugin (prison.rollcall.list state DISCREPANCY) and their clocks
-- re-armed from the time the discrepancy was found.
local cfg
local pending = {} -- roll call id -> { alarm = id, timer = id }
-- an operator script: the prison's role table lets it read and escalate
local actor = { user = "script:rollcall_escalation", role = "SYSTEM",
	agency = "prison-01" }

local arm -- forward

-- A log line in the node's language (xz.lang: "zh" when LANG, or
-- LC_MESSAGES, LC_ALL, starts with "zh"; else "en").
local function say(level, en, zh, ...)
	xz.log(level, string.format(xz.lang == "zh" and zh or en, ...))
end

local function check(rc_id)
	local p = pending[rc_id]
	if not p then
		return
	end
	p.timer = nil
	local rc, code = xz.request("prison.rollcall.get",
		{ id = rc_id, history = false, actor = actor }, cfg.timeout_ms)
	if not rc then
		say("warn", "cannot read roll call %s: %s", "无法读取点名 %s：%s",
			rc_id, tostring(code))
		arm(rc_id, p.alarm, cfg.escalate_after_s * 1000)
		return
	end
	if rc.state ~= "DISCREPANCY" then
		pending[rc_id] = nil
		return
	end
	local reason = string.format(
		"roll call %s not reconciled within %d s", rc_id,
		cfg.escalate_after_s)
	local a, err, msg = xz.request("prison.alarm.escalate",
		{ id = p.alarm, actor = actor, reason = reason }, cfg.timeout_ms)
	if not a then
		-- at level 3 already, or the alarm is closed: nothing more to do
		say("info", "alarm %s not escalated: %s %s", "告警 %s 未升级：%s %s",
			p.alarm, tostring(err), tostring(msg))
		pending[rc_id] = nil
		return
	end
	say("info", "roll call %s not reconciled within %d s: alarm %s now at "
		.. "level %s", "点名 %s 在 %d 秒内未核对一致：告警 %s 现为 %s 级",
		rc_id, cfg.escalate_after_s, p.alarm, tostring(a.level))
	arm(rc_id, p.alarm, cfg.escalate_after_s * 1000)
end

arm = function(rc_id, alarm_id, delay_ms)
	local p = pending[rc_id]
	if p and p.timer then
		xz.timer.cancel(p.timer)
	end
	pending[rc_id] = { alarm = alarm_id }
	pending[rc_id].timer = xz.timer.after(math.max(delay_ms, 0),
		function() check(rc_id) end)
end

local function on_discrepancy(data)
	if type(data) == "table" and data.id and data.alarm_id then
		arm(data.id, data.alarm_id, cfg.escalate_after_s * 1000)
	end
end

local function on_reconciled(data)
	local p = type(data) == "table" and pending[data.id]
	if p then
		if p.timer then
			xz.timer.cancel(p.timer)
		end
		pending[data.id] = nil
	end
end

-- Re-arm the discrepancies that were open before a restart or reload.
local function recover()
	local offset = 0
	repeat
		local page, err = xz.request("prison.rollcall.list",
			{ state = "DISCREPANCY", limit = 500, offset = offset,
			  actor = actor },
			cfg.timeout_ms)
		if not page then
			say("warn", "recovery failed: %s", "恢复失败：%s", tostring(err))
			return
		end
		for _, rc in ipairs(page.items) do
			if rc.alarm_id and not pending[rc.id] then
				arm(rc.id, rc.alarm_id, rc.updated_ms
					+ cfg.escalate_after_s * 1000 - xz.now())
			end
		end
		offset = page.next_offset
	until not offset
end

return {
	name = "rollcall_escalation",
	version = "1.0",
	description = "escalates the alarm of a roll-call discrepancy left "
		.. "unreconciled",
	options = {
		{ name = "escalate_after_s", type = "int", default = 120, min = 1,
		  max = 86400,
		  description = "seconds a discrepancy may stay unreconciled" },
		{ name = "timeout_ms", type = "int", default = 5000, min = 100,
		  max = 60000, description = "deadline of each request" },
	},
	init = function(c)
		cfg = c
		xz.subscribe("prison.rollcall.discrepancy-found", on_discrepancy)
		xz.subscribe("prison.rollcall.reconciled", on_reconciled)
	end,
	start = function()
		xz.timer.after(0, recover)
	end,
}
