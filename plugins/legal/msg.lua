-- msg.lua - the legal plugin's human-facing texts in 简体中文 and English.
--
--     local msg = require("msg")
--     msg.tr("%s: no %s with id %s", topic, noun, id)
--
-- tr(en, ...) looks the English format up in the catalog below, takes the
-- Chinese one when the node speaks Chinese, then formats it. Error codes,
-- states, actions and topics stay ASCII identifiers (clients match on
-- them); a message names them and, in Chinese, adds their label.
--
-- The language: the plugin option `lang` ("zh", "en", or "auto"). With
-- "auto" it is the node's own, as the host gives it to Lua (`xz.lang`, the
-- first non-empty of LC_ALL, LC_MESSAGES and LANG; "zh*" is Chinese); a
-- host that does not give it leaves English.
local M = {}

local lang = "en"

local function pick(v)
	if type(v) ~= "string" then
		return nil
	end
	return string.sub(v, 1, 2) == "zh" and "zh" or "en"
end

-- Choose the language from the option (see above); returns it.
function M.setup(opt)
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

function M.lang()
	return lang
end

-- English format -> Chinese format. The "%s" and "%d" follow the English
-- order.
local ZH = {
	-- refusals of the state machines
	["%s: %s %s is %s; allowed actions: %s"] =
		"%s：%s %s 处于 %s 状态；允许的操作：%s",
	["none (final state)"] = "无（终结状态）",
	["%s: no %s with id %s"] = "%s：%s %s 不存在",
	-- who may act
	["%s: needs the role %s; %s has %s"] =
		"%s：需要角色 %s；%s 的角色为 %s",
	["%s: %s acts for agency %s, not for %s"] =
		"%s：%s 只能代表本单位 %s 办理，不能代表 %s",
	["%s: %s is not the provider of %s %s"] =
		"%s：%s 不是%s %s 的承办人员",
	["%s: a kiosk files only for a person held at its own institution: %s"] =
		"%s：自助终端只能为本单位在押（在所）人员提出申请：%s",
	["%s: the authenticated caller is %s, the payload names %s"] =
		"%s：经认证的调用者是 %s，请求中的 actor 却是 %s",
	["%s: no authenticated caller and no \"actor\" {\"user\", \"role\", \"agency\"}"] =
		"%s：没有经认证的调用者，也没有 \"actor\" {\"user\", \"role\", \"agency\"}",
	-- strict inputs
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
	["%s: application %s needs a means check (法律援助法 art. 41): give \"means_checked\": true once the financial hardship is verified, or an exemption of art. 42 (\"means_exemption\")"] =
		"%s：申请 %s 须核查经济困难状况（《法律援助法》第四十一条）：核查后给出 \"means_checked\": true，或给出第四十二条规定的免予核查情形（\"means_exemption\"）",
	["%s: the exemption %s needs \"basis\" (the law, regulation or rule that provides it)"] =
		"%s：免予核查情形 %s 须给出 \"basis\"（规定该情形的法律、法规或规章）",
	["%s: urgent aid before review (法律援助法 art. 44) needs a ground: %s"] =
		"%s：先行提供法律援助（《法律援助法》第四十四条）须有法定情形：%s",
	["%s: ground LIMITATION_EXPIRING needs \"limitation_due_ms\" less than 7 days away (art. 44 (1)); it is %s"] =
		"%s：情形 LIMITATION_EXPIRING 须给出距今不足七日的 \"limitation_due_ms\"（第四十四条第一项）；实为 %s",
	["%s: termination needs a ground of 法律援助法 art. 48: %s"] =
		"%s：终止法律援助须有《法律援助法》第四十八条规定的情形：%s",
	["%s: provider %s cannot take application %s: %s"] =
		"%s：法律援助人员 %s 不能承办申请 %s：%s",
	["%s: no provider can take application %s (%s)"] =
		"%s：没有可承办申请 %s 的法律援助人员（%s）",
	["the directory is empty"] = "名录为空",
	["not in the directory"] = "不在名录中",
	["%s: provider %s is already in the directory"] =
		"%s：法律援助人员 %s 已在名录中",
	["%s: no provider with id %s"] = "%s：没有编号为 %s 的法律援助人员",
	["%s: provider %s is not a duty lawyer (a LAWYER with duty: true)"] =
		"%s：%s 不是值班律师（应为 duty: true 的 LAWYER）",
	["%s: the new provider is the current one (%s)"] =
		"%s：新承办人员与现承办人员相同（%s）",
	["%s: the calendar has no year %d: working days cannot be counted (load its file, option calendar_years)"] =
		"%s：日历中没有 %d 年：无法计算工作日（请加载该年的日历文件，选项 calendar_years）",
	["%s: \"purpose\" (why you read this record) is required"] =
		"%s：须给出 \"purpose\"（查阅该记录的目的）",
	["%s: the kiosk's prisoner %s could not be checked with the prison: %s"] =
		"%s：无法向监狱核实自助终端的罪犯 %s：%s",
	["%s: \"callback_at_ms\" must be later than now"] =
		"%s：\"callback_at_ms\" 应晚于当前时间",
	-- nouns
	["service request"] = "法律服务请求",
	["legal-aid application"] = "法律援助申请",
	["duty-lawyer shift"] = "值班律师值班",
}

M.ZH = ZH

-- Chinese labels of states and actions (shown next to the identifier).
M.LABEL = {
	NEW = "新建", ASSIGNED = "已分派", CALLBACK_PENDING = "待回电",
	ANSWERED = "已解答", REFERRED = "已转介", CLOSED = "已办结",
	REVISIT = "待回访", FORWARDED = "已转交", RECEIVED = "已受理",
	UNDER_REVIEW = "审查中", SUPPLEMENT_REQUESTED = "待补充材料",
	URGENT_SERVICE = "先行提供中", GRANTED = "已决定给予",
	REFUSED = "已决定不予", OBJECTION = "异议审查中", UPHELD = "异议维持",
	OVERTURNED = "责令改正", IN_SERVICE = "承办中", TERMINATED = "已终止",
	SCHEDULED = "已排班", ON_DUTY = "值班中", ENDED = "已结束",
	CANCELLED = "已取消", cancel = "取消",
	assign = "分派/指派", callback = "约定回电", answer = "解答",
	refer = "转介", close = "办结", rate = "评价", revisit = "回访",
	receive = "接收", ["start-review"] = "开始审查",
	["request-supplement"] = "一次性告知补充材料", supplement = "补充材料",
	["provide-urgent"] = "先行提供", grant = "决定给予",
	refuse = "决定不予", object = "提出异议", uphold = "维持",
	overturn = "责令改正", ["start-service"] = "开始承办",
	["change-provider"] = "更换法律援助人员", terminate = "终止",
	evaluate = "质量评估", start = "开始值班", help = "提供法律帮助",
	["end"] = "结束值班",
}

-- The text of an English format in the node's language, formatted.
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

-- An identifier (state or action) with its label in Chinese: "RECEIVED（已受理）".
function M.label(id)
	if lang == "zh" and M.LABEL[id] then
		return id .. "（" .. M.LABEL[id] .. "）"
	end
	return id
end

-- A list of identifiers joined for a message.
function M.list(ids)
	local out = {}
	for i, id in ipairs(ids) do
		out[i] = M.label(id)
	end
	return table.concat(out, lang == "zh" and "、" or ", ")
end

return M
