-- alarm_sla.lua - a small Lua plugin: the acknowledge SLA of prison alarms.
--
-- An alarm that is raised and not acknowledged within ack_sla_s seconds is
-- escalated one level (up to 3), and the escalation is published. Open
-- alarms are kept in the plugin's own SQLite store, so a reload (or a
-- restart) does not forget them.
--
--   in        prison.alarm.raised        {"id","kind","level","location"}
--   in        prison.alarm.acknowledged  {"id"}
--   out       prison.alarm.escalated     {"id","level","reason"}
--   request   alarm_sla.open {}          -> {"alarms":[{"id","level",...}]}
--
-- Run it:   xiezhi run -c examples/lua-plugin/xiezhi.cfg
--           xiezhi pub -c examples/lua-plugin/xiezhi.cfg prison.alarm.raised \
--               '{"id":"A-1","kind":"PERIMETER","level":1,"location":"wing-3"}'
--           xiezhi call -c examples/lua-plugin/xiezhi.cfg alarm_sla.open '{}'
local util = require("sla_util") -- sla_util.lua, next to this file

local ack_ms        -- from the options, set in init

-- A log line in the node's language: xz.lang is "zh" when LANG (or
-- LC_MESSAGES, LC_ALL) starts with "zh", else "en".
local function say(level, en, zh, ...)
	xz.log(level, string.format(xz.lang == "zh" and zh or en, ...))
end
local timers = {}   -- alarm id -> timer id

local function escalate(id)
	timers[id] = nil
	local rows = xz.db.query("SELECT level FROM alarms WHERE id = ?", id)
	if #rows == 0 then
		return
	end
	local level = math.min(rows[1].level + 1, 3)
	xz.db.exec("UPDATE alarms SET level = ? WHERE id = ?", level, id)
	xz.publish("prison.alarm.escalated", {
		id = id, level = level,
		reason = util.reason("acknowledged", ack_ms),
	})
	say("warn", "alarm %s escalated to level %d", "告警 %s 已升级为 %d 级",
		id, level)
end

local function on_raised(ev)
	if type(ev) ~= "table" or type(ev.id) ~= "string" then
		say("warn", "prison.alarm.raised without an id ignored",
			"prison.alarm.raised 缺少 id，已忽略")
		return
	end
	xz.db.exec("INSERT OR REPLACE INTO alarms(id, kind, level, location, "
		.. "raised_ms) VALUES (?, ?, ?, ?, ?)", ev.id, ev.kind or "UNKNOWN",
		ev.level or 1, ev.location or "", xz.now())
	timers[ev.id] = xz.timer.after(ack_ms, function() escalate(ev.id) end)
end

local function on_acknowledged(ev)
	local t = timers[ev.id]
	if t then
		xz.timer.cancel(t)
		timers[ev.id] = nil
	end
	xz.db.exec("DELETE FROM alarms WHERE id = ?", ev.id)
end

local function open_alarms()
	return { alarms = xz.db.query(
		"SELECT id, kind, level, location FROM alarms ORDER BY raised_ms") }
end

return {
	name = "alarm_sla",
	version = "1.0",
	description = "escalates prison alarms not acknowledged in time",
	options = {
		{ name = "ack_sla_s", type = "int", default = 15, min = 1,
		  max = 3600, description = "seconds to acknowledge an alarm" },
	},
	init = function(cfg)
		ack_ms = cfg.ack_sla_s * 1000
		xz.db.exec([[CREATE TABLE IF NOT EXISTS alarms (
			id TEXT PRIMARY KEY, kind TEXT, level INTEGER,
			location TEXT, raised_ms INTEGER)]])
		-- alarms still open from before a reload or restart get a fresh
		-- clock
		for _, a in ipairs(xz.db.query("SELECT id FROM alarms")) do
			timers[a.id] = xz.timer.after(ack_ms,
				function() escalate(a.id) end)
		end
	end,
	handlers = {
		["prison.alarm.raised"] = on_raised,
		["prison.alarm.acknowledged"] = on_acknowledged,
		["alarm_sla.open"] = open_alarms,
	},
}
