-- msg.lua - the legal plugin's human-facing texts in 简体中文 and English,
-- on the scheme of plugins/common/lua/catalog.lua (which holds the texts
-- shared with the mediation plugin, the choice of language, and tr, label
-- and list):
--
--     local msg = require("msg")
--     msg.setup(cfg.lang)
--     msg.tr("%s: no %s with id %s", topic, noun, id)
--
-- Error codes, states, actions and topics stay ASCII identifiers (clients
-- match on them); a message names them and, in Chinese, adds their label.

-- English format -> Chinese format. The "%s" and "%d" follow the English
-- order.
local ZH = {
	-- who may act
	["%s: %s is not the provider of %s %s"] =
		"%s：%s 不是%s %s 的承办人员",
	["%s: a kiosk files only for a person held at its own institution: %s"] =
		"%s：自助终端只能为本单位在押（在所）人员提出申请：%s",
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
	["%s: the kiosk's prisoner %s could not be checked with the prison: %s"] =
		"%s：无法向监狱核实自助终端的罪犯 %s：%s",
	["%s: \"callback_at_ms\" must be later than now"] =
		"%s：\"callback_at_ms\" 应晚于当前时间",
	-- nouns
	["service request"] = "法律服务请求",
	["legal-aid application"] = "法律援助申请",
	["duty-lawyer shift"] = "值班律师值班",
	-- the options, checked at start
	["option holidays: '%s' is not a date (YYYY-MM-DD)"] =
		"选项 holidays：'%s' 不是日期（YYYY-MM-DD）",
	["option calendar_years: '%s' is not a year (YYYY)"] =
		"选项 calendar_years：'%s' 不是年份（YYYY）",
	["option calendar_years: year %s: no calendar file %s next to the plugin (%s)"] =
		"选项 calendar_years：%s 年：插件旁没有日历文件 %s（%s）",
	["%s:1: the file must return the calendar text (a long string)"] =
		"%s:1: 该文件必须返回日历文本（长字符串）",
	-- a calendar file's errors (legal_days.parse_calendar): FILE:LINE first
	["%s:%d: a second \"year\" line"] = "%s:%d: 出现第二个 \"year\" 行",
	["%s:%d: the file is for year %d, not %d"] =
		"%s:%d: 该文件属于 %d 年，而不是 %d 年",
	["%s:%d: status '%s': official or provisional"] =
		"%s:%d: 状态 '%s'：应为 official（正式）或 provisional（临时）",
	["%s:%d: the first line must be \"year YYYY\""] =
		"%s:%d: 第一行必须是 \"year YYYY\"",
	["%s:%d: '%s' is not a date (YYYY-MM-DD)"] =
		"%s:%d: '%s' 不是日期（YYYY-MM-DD）",
	["%s:%d: %s is not in year %d"] = "%s:%d: %s 不在 %d 年内",
	["%s:%d: '%s': a date is followed by holiday or workday"] =
		"%s:%d: '%s'：日期之后应为 holiday（放假）或 workday（调休上班）",
	["%s:%d: %s %s: give the name of the holiday"] =
		"%s:%d: %s %s：请写明节日名称",
	["%s:%d: %s is listed twice"] = "%s:%d: %s 重复列出",
	["%s:%d: %s is a %s: a workday line is a weekend day worked (调休), weekdays are working days already"] =
		"%s:%d: %s 是%s：workday 行只写调休上班的周末，周一至周五本来就是工作日",
	["%s:%d: no \"year YYYY\" line"] = "%s:%d: 没有 \"year YYYY\" 行",
	["Monday"] = "星期一", ["Tuesday"] = "星期二", ["Wednesday"] = "星期三",
	["Thursday"] = "星期四", ["Friday"] = "星期五", ["Saturday"] = "星期六",
	["Sunday"] = "星期日",
	["option working_day_clocks: '%s' (assign, objection)"] =
		"选项 working_day_clocks：'%s'（应为 assign 或 objection）",
	["option custodial_agencies: '%s' (prison=AGENCY, rehab=AGENCY, detention=AGENCY)"] =
		"选项 custodial_agencies：'%s'（应为 prison=机构、rehab=机构、detention=机构）",
	-- the operator's log
	["legal: %s %s: the breach of clock %s was not recorded: %s"] =
		"legal：%s %s：时限 %s 的超期未能记录：%s",
	["legal: %s %s missed its %s clock"] = "legal：%s %s 已超过时限 %s",
	["legal aid %s: the legal visit was not requested: %s"] =
		"法律援助 %s：未能申请律师会见：%s",
	["%s without \"id\" and \"%s\" ignored"] =
		"%s 缺少 \"id\" 和 \"%s\"，已忽略",
	["%s %s: not opened: %s %s"] = "%s %s：未能立案：%s %s",
	["%s.kiosk.forward %s: %s %s"] = "%s.kiosk.forward %s：%s %s",
	["%s %s ignored: published by %s"] = "%s %s 已忽略：发布者为 %s",
	["legal: calendar %s is provisional (%s): its 调休 days are not entered; replace it with the State Council's notice for the year"] =
		"legal：%s 年日历为临时版本（%s）：未录入调休日；请按国务院当年的放假通知替换",
}

-- Chinese labels of states and actions (shown next to the identifier).
local LABEL = {
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

return require("catalog").new(ZH, LABEL)
