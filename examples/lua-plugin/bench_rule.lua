-- bench_rule.lua - the Lua rule of `xiezhi bench` (lua_rule_msgs_per_s).
--
-- In:  bench.in  {"id","kind","level","location","ts"}
-- Out: bench.out {"id","alarm","level"}: alarm when the level is 2 or more
--      or the alarm is a PERIMETER one (the same rule as the C plugin of
--      the bench, so the two figures compare).
--
-- Kept fast on purpose: the functions are locals (no global lookups per
-- message) and the output table is reused, since xz.publish encodes it
-- before returning.
local publish = xz.publish
local out = { id = 0, alarm = false, level = 0 }

local function on_event(ev)
	local level = ev.level
	out.id = ev.id
	out.level = level
	out.alarm = level >= 2 or ev.kind == "PERIMETER"
	publish("bench.out", out)
end

return {
	name = "bench_rule",
	version = "1.0",
	description = "bench: 5-field alarm event in, derived event out",
	handlers = { ["bench.in"] = on_event },
}
