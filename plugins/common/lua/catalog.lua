-- catalog.lua - human-facing texts in 简体中文 and English for the Lua
-- plugins (legal, mediation): each plugin's msg.lua makes its catalog
--
--     local M = require("catalog").new(ZH, LABEL)
--     M.tr("%s: no %s with id %s", topic, noun, id)
--
-- tr(en, ...) looks the English format up in ZH (the plugin's entries
-- over the shared ones below) when the node speaks Chinese, then formats
-- it. Error codes, states, actions and topics stay ASCII identifiers
-- (clients match on them); a Chinese message adds their label (LABEL).
--
-- The language: the plugin option `lang` ("zh", "en", or "auto"). With
-- "auto" it is the node's own, as the host gives it to Lua (`xz.lang`, the
-- first non-empty of LC_ALL, LC_MESSAGES and LANG; "zh*" is Chinese); a
-- host that does not give it leaves English.
local M = {}

-- The texts every plugin on this scheme shares: the refusals of a state
-- machine, of who may act, and of strict inputs (schema.lua).
M.COMMON = {
	["%s: %s %s is %s; allowed actions: %s"] =
		"%s：%s %s 处于 %s 状态；允许的操作：%s",
	["none (final state)"] = "无（终结状态）",
	["%s answered the code %s outside the closed set: sent as internal"] =
		"%s 返回了封闭集合之外的代码 %s：已按 internal 发送",
	["%s: no %s with id %s"] = "%s：%s %s 不存在",
	["%s: needs the role %s; %s has %s"] =
		"%s：需要角色 %s；%s 的角色为 %s",
	["%s: %s acts for agency %s, not for %s"] =
		"%s：%s 只能代表本单位 %s 办理，不能代表 %s",
	["%s: the authenticated caller is %s, the payload names %s"] =
		"%s：经认证的调用者是 %s，请求中的 actor 却是 %s",
	["%s: no authenticated caller and no \"actor\" {\"user\", \"role\", \"agency\"}"] =
		"%s：没有经认证的调用者，也没有 \"actor\" {\"user\", \"role\", \"agency\"}",
	["%s: field \"%s\": %s"] = "%s：字段 \"%s\"：%s",
	["unknown field (allowed: %s)"] = "未知字段（允许的字段：%s）",
	["is required"] = "必填",
	["must be a string"] = "应为字符串",
	["must be a non-empty string of at most %d bytes of valid UTF-8"] =
		"应为非空、不超过 %d 字节的有效 UTF-8 字符串",
	["must be an integer"] = "应为整数",
	["must be an integer from %d to %d"] = "应为 %d 到 %d 之间的整数",
	["must be true or false"] = "应为 true 或 false",
	["must be one of %s"] = "应为以下之一：%s",
	["must be an object"] = "应为对象",
	["must be valid UTF-8"] = "应为有效的 UTF-8",
	["option lang: '%s' (zh, en or auto)"] = "选项 lang：'%s'（应为 zh、en 或 auto）",
	["must be a list of at most %d strings"] = "应为不超过 %d 个字符串的列表",
	["must be an id ([A-Za-z0-9_.:-], 1 to 64 characters)"] =
		"应为编号（[A-Za-z0-9_.:-]，1 到 64 个字符）",
	["%s: \"purpose\" (why you read this record) is required"] =
		"%s：须给出 \"purpose\"（查阅该记录的目的）",
}

local function pick(v)
	if type(v) ~= "string" then
		return nil
	end
	return string.sub(v, 1, 2) == "zh" and "zh" or "en"
end

-- A catalog: zh (English format -> Chinese format, the conversions in the
-- English order) over COMMON, and label (identifier -> Chinese label).
-- Returns a module with setup, lang, tr, label, list, ZH and LABEL.
function M.new(zh, label)
	local C = { ZH = {}, LABEL = label or {} }
	local lang = "en"
	for k, v in pairs(M.COMMON) do
		C.ZH[k] = v
	end
	for k, v in pairs(zh or {}) do
		C.ZH[k] = v
	end

	-- Choose the language from the option (see above); returns it.
	function C.setup(opt)
		if opt == "zh" or opt == "en" then
			lang = opt
			return lang
		end
		lang = "en"
		local host = rawget(xz, "lang")
		if type(host) == "function" then
			local ok, v = pcall(host)
			host = ok and v or nil
		end
		local l = pick(host)
		if not l and type(rawget(xz, "tr")) == "function" then
			local ok, v = pcall(xz.tr, { en = "en", zh = "zh" })
			l = ok and pick(v) or nil
		end
		lang = l or "en"
		return lang
	end

	function C.lang()
		return lang
	end

	-- The text of an English format in the node's language, formatted.
	function C.tr(en, ...)
		local f = en
		if lang == "zh" then
			f = C.ZH[en] or en
		end
		if select("#", ...) > 0 then
			return string.format(f, ...)
		end
		return f
	end

	-- An identifier (state or action) with its label in Chinese:
	-- "RECEIVED（已受理）".
	function C.label(id)
		if lang == "zh" and C.LABEL[id] then
			return id .. "（" .. C.LABEL[id] .. "）"
		end
		return id
	end

	-- A list of identifiers joined for a message.
	function C.list(ids)
		local out = {}
		for i, id in ipairs(ids) do
			out[i] = C.label(id)
		end
		return table.concat(out, lang == "zh" and "、" or ", ")
	end

	return C
end

return M
