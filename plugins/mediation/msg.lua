-- msg.lua - the mediation plugin's human-facing texts in 简体中文 and
-- English (the same scheme as plugins/legal/msg.lua).
--
--     msg.tr("%s: no %s with id %s", topic, noun, id)
--
-- tr(en, ...) looks the English format up in ZH below when the node speaks
-- Chinese, then formats it. Error codes, states, actions and topics stay
-- ASCII identifiers; a Chinese message adds their label.
--
-- The language: the plugin option `lang` ("zh", "en", or "auto": the
-- node's, `xz.lang`, from LC_ALL / LC_MESSAGES / LANG; "zh*" is Chinese).
local M = {}

local lang = "en"

function M.setup(opt)
	if opt == "zh" or opt == "en" then
		lang = opt
		return lang
	end
	local host = rawget(xz, "lang")
	if type(host) == "function" then
		local ok, v = pcall(host)
		host = ok and v or nil
	end
	lang = type(host) == "string" and string.sub(host, 1, 2) == "zh"
		and "zh" or "en"
	return lang
end

function M.lang()
	return lang
end

-- English format -> Chinese format; the conversions keep their order.
local ZH = {
	-- refusals of the state machine
	["%s: %s %s is %s; allowed actions: %s"] =
		"%s：%s %s 处于 %s 状态；允许的操作：%s",
	["none (final state)"] = "无（终结状态）",
	["%s: no %s with id %s"] = "%s：%s %s 不存在",
	["mediation case"] = "人民调解案件",
	-- who may act
	["%s: needs the role %s; %s has %s"] =
		"%s：需要角色 %s；%s 的角色为 %s",
	["%s: %s acts for agency %s, not for %s"] =
		"%s：%s 只能代表本单位 %s 办理，不能代表 %s",
	["%s: %s is not the mediator of case %s (%s is)"] =
		"%s：%s 不是案件 %s 的人民调解员（承办人为 %s）",
	["%s: the authenticated caller is %s, the payload names %s"] =
		"%s：经认证的调用者是 %s，请求中的 actor 却是 %s",
	["%s: no authenticated caller and no \"actor\" {\"user\", \"role\", \"agency\"}"] =
		"%s：没有经认证的调用者，也没有 \"actor\" {\"user\", \"role\", \"agency\"}",
	-- strict inputs (schema.lua)
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
	["must be a list"] = "应为列表",
	["must be a list of at most %d strings"] = "应为不超过 %d 个字符串的列表",
	["must be an id ([A-Za-z0-9_.:-], 1 to 64 characters)"] =
		"应为编号（[A-Za-z0-9_.:-]，1 到 64 个字符）",
	-- domain rules
	["%s: a party has refused mediation: it may not go on (人民调解法 art. 17)"] =
		"%s：一方当事人明确拒绝调解，不得调解（《人民调解法》第十七条）",
	["%s: the judicial confirmation must be applied for within %d days of the agreement taking effect (人民调解法 art. 33); case %s's window closed at %s"] =
		"%s：应当自调解协议生效之日起 %d 日内申请司法确认（《人民调解法》第三十三条）；案件 %s 的期限已于 %s 届满",
	["%s: an oral agreement cannot be taken to court for judicial confirmation: make a written 调解协议书 (人民调解法 arts. 28, 29, 33)"] =
		"%s：口头协议无法申请司法确认：请制作书面调解协议书（《人民调解法》第二十八条、第二十九条、第三十三条）",
	["%s: \"purpose\" (why you read this record) is required"] =
		"%s：须给出 \"purpose\"（查阅该记录的目的）",
	["mediation failed: the parties may seek arbitration, administrative or judicial remedies (人民调解法 art. 26)"] =
		"调解不成：当事人可以依法通过仲裁、行政、司法等途径维护自己的权利（《人民调解法》第二十六条）",
}

M.ZH = ZH

-- Chinese labels of states and actions (shown next to the identifier).
M.LABEL = {
	APPLIED = "已申请", ACCEPTED = "已受理", REFUSED = "不予受理",
	MEDIATED = "调解中", AGREED = "达成调解协议", FAILED = "调解不成",
	CONFIRMATION_REQUESTED = "已申请司法确认", CLOSED = "已结案",
	accept = "受理", refuse = "不予受理", mediate = "调解",
	agree = "达成调解协议", fail = "终止调解",
	["request-confirmation"] = "申请司法确认", close = "结案",
}

function M.tr(en, ...)
	local f = en
	if lang == "zh" then
		f = ZH[en] or en
	end
	if select("#", ...) > 0 then
		return string.format(f, ...)
	end
	return f
end

-- "ACCEPTED（已受理）" in Chinese, "ACCEPTED" in English.
function M.label(id)
	if lang == "zh" and M.LABEL[id] then
		return id .. "（" .. M.LABEL[id] .. "）"
	end
	return id
end

function M.list(ids)
	local out = {}
	for i, id in ipairs(ids) do
		out[i] = M.label(id)
	end
	return table.concat(out, lang == "zh" and "、" or ", ")
end

return M
