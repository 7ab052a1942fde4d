-- heartbeat.lua - publishes the node's health at a fixed period, so a
-- monitoring system (or another node over a link) sees it is alive and
-- whether any plugin is in trouble.
--
--   published  <topic>  every every_s seconds:
--     {"node":"xiezhi-1","seq":N,"time":MS,"uptime_ms":N,"status":"ok",
--      "plugins":N,"unhealthy":["name",...],"queued":N,"dropped":N}
--   status is "ok", "degraded" (a plugin not running, or drops since the
--   last beat) or "unknown" (the node did not answer xz.sys.status, then
--   "error" says why).
local cfg -- xz.config, set in init
local seq = 0
local last_dropped = nil

local function beat()
	seq = seq + 1
	local st, err, msg = xz.request("xz.sys.status", {}, cfg.timeout_ms)
	if not st then
		xz.publish(cfg.topic, { seq = seq, time = xz.now(),
			status = "unknown", error = err .. ": " .. tostring(msg) })
		return
	end
	local unhealthy = xz.json.as_array()
	local queued = 0
	for _, p in ipairs(st.plugins) do
		if p.state ~= "running" then
			unhealthy[#unhealthy + 1] = p.name
		end
		queued = queued + (p.queue_depth or 0)
	end
	local dropped = st.bus and st.bus.dropped or 0
	local status = "ok"
	if #unhealthy > 0 or (last_dropped and dropped > last_dropped) then
		status = "degraded"
	end
	last_dropped = dropped
	xz.publish(cfg.topic, {
		node = st.node, seq = seq, time = xz.now(),
		uptime_ms = st.uptime_ms, status = status,
		plugins = #st.plugins, unhealthy = unhealthy,
		queued = queued, dropped = dropped,
	})
end

return {
	name = "heartbeat",
	init = function(c)
		cfg = c
		xz.timer.every(cfg.every_s * 1000, beat)
	end,
	version = "1.0",
	description = "periodic node health on the bus",
	options = {
		{ name = "every_s", type = "int", default = 10, min = 1,
		  max = 3600, description = "beat period in seconds" },
		{ name = "topic", type = "string", default = "xz.health.heartbeat",
		  description = "where beats are published" },
		{ name = "timeout_ms", type = "int", default = 2000, min = 1,
		  max = 60000, description = "deadline of the status request" },
	},
}
