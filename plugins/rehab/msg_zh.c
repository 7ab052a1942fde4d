/* msg_zh.c - the rehab plugin's messages in 简体中文 (the English text is
 * the key; <xiezhi/i18n.h>). */
#include <string.h>

#include "rehab.h"

const xz_tr rehab_zh[] = {
	{ "%s needs the role %s; the actor's role is '%s'",
	    "%s 需要角色 %s；当前角色为“%s”" },
	{ "%s: the actor acts for '%s'; this centre is '%s'",
	    "%s：办理人所属机关为“%s”，本所为“%s”" },
	{ "%s %s is %s: %s is not allowed (allowed: %s)",
	    "%s %s 处于 %s（%s）状态：不允许 %s（允许的操作：%s）" },
	{ "no %s with id %s", "没有编号为 %2$s 的%1$s" },
	{ "禁毒法 art. 47: the term of compulsory isolated rehabilitation is "
	  "2 "
	  "years (24 months), counted from the public-security decision; "
	  "\"term_months\" %lld is refused",
	    "《禁毒法》第四十七条：强制隔离戒毒的期限为二年（24 "
	    "个月），自公安机关"
	    "决定之日起计算；不接受 \"term_months\" %lld" },
	{ "\"decision_date\" %s is after the admission %s",
	    "\"decision_date\" %s 晚于入所日期 %s" },
	{ "\"decision_date\" %s is in the future",
	    "\"decision_date\" %s 在今天之后" },
	{ "resident %s has been in %s for %lld day(s): the minimum is %lld",
	    "戒毒人员 %s 在%s已满 %lld 天：至少需要 %lld 天" },
	{ "resident %s cannot leave %s: no approved, passing %s assessment "
	  "taken in this phase",
	    "戒毒人员 %s 不能离开%s：本期内没有已审核且合格的 %s 诊断评估" },
	{ "resident %s: the term ends on %s and no decision of the deciding "
	  "authority authorizes an earlier release",
	    "戒毒人员 %s：期限至 %s 届满，决定机关尚未批准提前解除" },
	{ "resident %s already has a handbook", "戒毒人员 %s 已建立戒毒手册" },
	{ "resident %s is RELEASED: no assessment",
	    "戒毒人员 %s 已解除（RELEASED）：不能再做诊断评估" },
	{ "resident %s is RELEASED: no disposition",
	    "戒毒人员 %s 已解除（RELEASED）：不能再提出处置意见" },
	{ "禁毒法 art. 47: early release may be proposed after one year "
	  "counted from the decision (%s); resident %s has served %lld "
	  "day(s), the year ends on %s",
	    "《禁毒法》第四十七条：强制隔离戒毒满一年（自决定之日 %s "
	    "起计算）后方可"
	    "提出提前解除意见；戒毒人员 %s 已执行 %lld 天，满一年之日为 %s" },
	{ "resident %s has no approved, passing ONE_YEAR assessment: early "
	  "release cannot be proposed",
	    "戒毒人员 %s "
	    "没有已审核且合格的满一年诊断评估（ONE_YEAR）：不能提出提前"
	    "解除意见" },
	{ "禁毒法 art. 47: an extension is at most 1 year (12 months) in "
	  "total; resident %s has %lld month(s) approved and %lld pending, "
	  "%lld more is refused",
	    "《禁毒法》第四十七条：延长戒毒期限累计最长一年（12 "
	    "个月）；戒毒人员 %s "
	    "已批准延长 %lld 个月、待决 %lld 个月，不能再延长 %lld 个月" },
	{ "resident %s: the term has ended (%s): no extension",
	    "戒毒人员 %s：期限已于 %s 届满，不能延长" },
	{ "an EXTENSION needs \"months\" (1..12)",
	    "延长期限（EXTENSION）须给出 \"months\"（1..12）" },
	{ "the deciding authority could not be reached through collab: %s",
	    "无法通过协同平台送达决定机关：%s" },
	{ "disposition %s is %s: only a PROPOSED one can be submitted",
	    "处置意见 %s 处于 %s 状态：只有 "
	    "PROPOSED（已拟定）的意见可以报送" },
	{ "assessment: a %s assessment needs \"psycho_physical\" (PASS/FAIL), "
	  "\"behaviour\" (PASS/FAIL) and \"social\" (GOOD/FAIR)",
	    "诊断评估：%s 评估须给出身心康复 "
	    "\"psycho_physical\"（PASS/FAIL）、"
	    "行为表现 \"behaviour\"（PASS/FAIL）和社会环境与适应能力 "
	    "\"social\""
	    "（GOOD/FAIR）" },
	{ "assessment: \"detox\" must give the five items as booleans: "
	  "drug_test_negative, withdrawal_medication_stopped, "
	  "acute_symptoms_gone, no_marked_protracted_symptoms, "
	  "no_drug_induced_psychosis",
	    "诊断评估：生理脱毒 \"detox\" "
	    "须以布尔值给出五项：drug_test_negative、"
	    "withdrawal_medication_stopped、acute_symptoms_gone、"
	    "no_marked_protracted_symptoms、no_drug_induced_psychosis" },
	{ "rehab.plan.record-session: \"session\" must be "
	  "{\"topic\":..,\"attended\":true|false}",
	    "rehab.plan.record-session：\"session\" 应为 "
	    "{\"topic\":..,\"attended\":true|false}" },
	{ "resident", "戒毒人员" },
	{ "assessment", "诊断评估" },
	{ "disposition", "处置意见" },
	{ "plan", "矫治方案" },
	{ "none", "无" },
	/* the operator's log */
	{ "%s from %s refused: it needs the role ai_assessor",
	    "%s（来自 %s）被拒绝：须具有 ai_assessor（AI+AR 评估系统）角色" },
	{ "%s: payload is not a JSON object (from %s)",
	    "%s：消息内容不是 JSON 对象（来自 %s）" },
	{ "collab decision on %s ignored: not the transfer or not the "
	  "deciding "
	  "authority of a submitted disposition",
	    "已忽略关于 %s "
	    "的协同决定：不是已提交处置意见的移送，或不是其决定机关"
	    "作出" },
	{ "collab decision on %s not applied: %s",
	    "关于 %s 的协同决定未能执行：%s" },
	{ "subscribe: %s", "订阅：%s" },
	{ "seeded 12 demo residents R0001..R0012",
	    "已生成 12 名演示戒毒人员 R0001..R0012" },
	{ "seed: %s", "生成演示数据：%s" },
	{ "resident %s: the 社区康复 handoff to %s was not sent: %s",
	    "戒毒人员 %s：向 %s 的社区康复交接未能发出：%s" },
	{ NULL, NULL },
};

const char *
rehab_label(const char *id)
{
	static const struct {
		const char *id, *zh;
	} l[] = {
		{ "PHYSIOLOGICAL_DETOX", "生理脱毒期" },
		{ "EDUCATION_ADAPTATION", "教育适应期" },
		{ "REHABILITATION_CONSOLIDATION", "康复巩固期" },
		{ "RETURN_GUIDANCE", "回归指导期" },
		{ "RELEASED", "已解除" },
		{ "SCORED", "已评分" },
		{ "APPROVED", "已批准" },
		{ "REJECTED", "未批准" },
		{ "PROPOSED", "已拟定" },
		{ "SUBMITTED", "已报送决定机关" },
		{ "WITHDRAWN", "已撤回" },
		{ "DRAFT", "草稿" },
		{ "IN_PROGRESS", "实施中" },
		{ "COMPLETED", "已完成" },
		{ "ENDED", "已终止" },
	};
	for (size_t i = 0; id && i < sizeof(l) / sizeof(l[0]); i++)
		if (strcmp(l[i].id, id) == 0)
			return l[i].zh;
	return id ? id : "";
}
