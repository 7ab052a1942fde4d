-- msg.lua - the mediation plugin's human-facing texts in 简体中文 and
-- English, on the scheme of plugins/common/lua/catalog.lua (which holds
-- the texts shared with the legal plugin, and tr, label and list):
--
--     local msg = require("msg")
--     msg.setup(cfg.lang)
--     msg.tr("%s: no %s with id %s", topic, noun, id)

-- English format -> Chinese format; the conversions keep their order.
local ZH = {
	-- nouns
	["mediation case"] = "人民调解案件",
	-- the operator's log
	["mediation case %s: clock %s expired"] = "人民调解案件 %s：时限 %s 已届满",
	-- who may act
	["%s: %s is not the mediator of case %s (%s is)"] =
		"%s：%s 不是案件 %s 的人民调解员（承办人为 %s）",
	-- domain rules
	["%s: the judicial confirmation must be applied for within %d days of the agreement taking effect (人民调解法 art. 33); case %s's window closed at %s"] =
		"%s：应当自调解协议生效之日起 %d 日内申请司法确认（《人民调解法》第三十三条）；案件 %s 的期限已于 %s 届满",
	["%s: an oral agreement cannot be taken to court for judicial confirmation: make a written 调解协议书 (人民调解法 arts. 28, 29, 33)"] =
		"%s：口头协议无法申请司法确认：请制作书面调解协议书（《人民调解法》第二十八条、第二十九条、第三十三条）",
	["mediation failed: the parties may seek arbitration, administrative or judicial remedies (人民调解法 art. 26)"] =
		"调解不成：当事人可以依法通过仲裁、行政、司法等途径维护自己的权利（《人民调解法》第二十六条）",
}

-- Chinese labels of states and actions (shown next to the identifier).
local LABEL = {
	APPLIED = "已申请", ACCEPTED = "已受理", REFUSED = "不予受理",
	MEDIATED = "调解中", AGREED = "达成调解协议", FAILED = "调解不成",
	CONFIRMATION_REQUESTED = "已申请司法确认", CLOSED = "已结案",
	accept = "受理", refuse = "不予受理", mediate = "调解",
	agree = "达成调解协议", fail = "终止调解",
	["request-confirmation"] = "申请司法确认", close = "结案",
}

return require("catalog").new(ZH, LABEL)
