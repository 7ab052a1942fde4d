-- sla_util.lua - a module of the alarm_sla plugin, loaded with
-- require("sla_util"): a plugin may only require files next to it.
local M = {}

function M.reason(what, ms)
	return string.format("not %s within %d s", what, ms // 1000)
end

return M
