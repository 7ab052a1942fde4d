-- event_counter.lua - counts the events seen per topic and publishes a
-- summary at a fixed period; the current window can also be asked for.
--
--   published  <topic>        every every_s seconds:
--              {"window_ms":N,"total":N,"topics":{"prison.alarm.raised":3,...},
--               "other":N}   (topics past max_topics are summed in "other")
--   request    <topic>.get    -> the same for the window so far
--
-- Options (scripts = ( { name = "event_counter"; path = "...";
--                        options = { every_s = 60; }; } );):
-- Options are read in init(cfg): top-level code also runs once when the
-- node checks the script, before defaults are known.
local topic, max_topics
local counts, ntopics, other, total = {}, 0, 0, 0
local since = xz.now()

local function on_event(_, t)
	if t == topic or t == topic .. ".get" then
		return
	end
	local n = counts[t]
	if n then
		counts[t] = n + 1
	elseif ntopics < max_topics then
		counts[t] = 1
		ntopics = ntopics + 1
	else
		other = other + 1
	end
	total = total + 1
end

local function summary(now)
	return { window_ms = now - since, total = total, topics = counts,
		other = other }
end

local function init(cfg)
	topic, max_topics = cfg.topic, cfg.max_topics
	since = xz.now()
	xz.subscribe(cfg.pattern, on_event)
	xz.subscribe(topic .. ".get", function()
		return summary(xz.now())
	end)
	xz.timer.every(cfg.every_s * 1000, function()
		local now = xz.now()
		xz.publish(topic, summary(now))
		counts, ntopics, other, total, since = {}, 0, 0, 0, now
	end)
end

return {
	name = "event_counter",
	init = init,
	version = "1.0",
	description = "events per topic, published as a periodic summary",
	options = {
		{ name = "pattern", type = "string", default = ">",
		  description = "which topics to count (wildcards allowed)" },
		{ name = "every_s", type = "int", default = 60, min = 1,
		  max = 86400, description = "summary period in seconds" },
		{ name = "topic", type = "string", default = "xz.stats.events",
		  description = "where the summary is published" },
		{ name = "max_topics", type = "int", default = 1000, min = 1,
		  max = 100000,
		  description = "distinct topics counted; the rest go to other" },
	},
}
