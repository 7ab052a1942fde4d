/*
 * msg_zh.c - the prison plugin's messages in 简体中文 (<xiezhi/i18n.h>):
 * every text a person reads in a refusal, keyed by its English format
 * string, and the 中文 labels of states, record kinds and roles. Ids and
 * codes stay ASCII in both languages.
 */
#include <string.h>

#include "prison.h"

static const xz_tr labels[] = {
	/* record kinds */
	{ "alarm", "告警" },
	{ "rollcall", "点名" },
	{ "incident", "狱内事件报告" },
	{ "visit", "会见" },
	{ "prisoner", "罪犯" },
	{ "location", "场所" },
	{ "kiosk", "自助终端申请" },
	/* alarm states */
	{ "RAISED", "待确认" },
	{ "ACKNOWLEDGED", "已确认" },
	{ "DISPATCHED", "已派警" },
	{ "ON_SCENE", "已到场" },
	{ "HANDLING", "处置中" },
	{ "RESOLVED", "已处置" },
	{ "CLOSED", "已关闭" },
	{ "FALSE_ALARM", "误报" },
	{ "REOPENED", "已重开" },
	/* roll calls */
	{ "SCHEDULED", "已计划" },
	{ "IN_PROGRESS", "清点中" },
	{ "RECONCILED", "已核对" },
	{ "DISCREPANCY", "人数不符" },
	/* incident reports */
	{ "DRAFT", "草稿" },
	{ "AWAITING_REVIEW", "待审核" },
	{ "NEEDS_UPDATING", "待修改" },
	{ "UPDATED", "已修改" },
	{ "DUPLICATE", "重复" },
	{ "NOT_REPORTABLE", "无需上报" },
	/* visits */
	{ "REQUESTED", "已申请" },
	{ "APPROVED", "已批准" },
	{ "REJECTED", "已拒绝" },
	{ "BOOKED", "已安排" },
	{ "COMPLETED", "已完成" },
	{ "CANCELLED", "已取消" },
	/* prisoners: legal status */
	{ "SERVING", "服刑" },
	{ "PAROLED", "假释" },
	{ "TEMP_OUTSIDE", "暂予监外执行" },
	{ "RELEASED", "刑满释放" },
	{ "TRANSFERRED", "已调出" },
	/* locations, kiosk */
	{ "ACTIVE", "启用" },
	{ "INACTIVE", "停用" },
	{ "SUBMITTED", "已提交" },
	{ "FORWARDED", "已转交" },
	/* duty: roster, handover, reports */
	{ "roster", "值班表" },
	{ "handover", "交接班" },
	{ "report", "报告" },
	{ "SET", "已排班" },
	{ "OPEN", "待接班" },
	{ "ACCEPTED", "已接班" },
	{ "ESCALATED", "已上报值班领导" },
	{ "SENT", "已报送" },
	{ "OVERDUE", "逾期未签收" },
	{ NULL, NULL },
};

/* Roles apart: "kiosk" is both a record kind (自助终端申请) and a role
 * (自助终端). */
static const xz_tr role_labels[] = {
	{ "command_duty", "指挥中心值班民警" },
	{ "duty_leader", "值班领导" },
	{ "area_officer", "监区民警" },
	{ "prison_admin", "狱政科民警" },
	{ "prison_leader", "监狱领导" },
	{ "prison_bureau", "省监狱管理局" },
	{ "kiosk", "自助终端" },
	{ "sensor", "前端感知设备" },
	{ "lawyer", "律师/法律援助人员" },
	{ "legal_reviewer", "法律援助中心审查人员" },
	{ "hotline_operator", "12348 接待人员" },
	{ "admin", "系统管理员" },
	{ "auditor", "审计员" },
	{ "plugin", "平台插件" },
	{ NULL, NULL },
};

static const char *
label_in(const xz_tr *table, const char *id)
{
	for (const xz_tr *t = table; t->en; t++)
		if (strcmp(t->en, id) == 0)
			return xz_lang() == XZ_LANG_ZH ? t->zh : id;
	return NULL;
}

const char *
prison_label(const char *id)
{
	const char *l;
	if (id == NULL)
		return "-";
	if ((l = label_in(labels, id)) == NULL)
		l = label_in(role_labels, id);
	return l ? l : id;
}

const char *
prison_role_label(const char *role)
{
	const char *l;
	if (role == NULL)
		return "-";
	l = label_in(role_labels, role);
	return l ? l : role;
}

const xz_tr prison_zh[] = {
	{ "prison.alarm.raise: \"location\": %s is not a registered location "
	  "(see prison.location.list)",
	    "prison.alarm.raise：字段 \"location\"：%s 不是已登记的场所（见 "
	    "prison.location.list）" },
	{ "prison.alarm.raise: \"location\": %s is %s",
	    "prison.alarm.raise：字段 \"location\"：%s 处于%s状态" },
	{ "alarm %s is at level %lld: escalate needs a higher level, at most "
	  "3",
	    "告警 %s 当前为 %lld 级：升级须提高级别，最高 3 级" },
	{ "%s: %s acts for agency \"%s\", not for this prison (%s): a person "
	  "acts for their own agency only",
	    "%s：%s 代表单位 "
	    "\"%s\"，不是本单位（%s）：人员只能代表本单位办理" },
	{ "%s: role %s may not do this; it needs one of: %s",
	    "%s：角色 %s 无权执行此操作；需要以下角色之一：%s" },
	{ "no %s with id %s", "没有编号为 %2$s 的%1$s" },
	{ "%s: \"limit\": expected an integer from 1 to %lld",
	    "%s：字段 \"limit\"：应为 1 至 %lld 之间的整数" },
	{ "%s: alarm %s is at level 3: only the duty leader (duty_leader) may "
	  "dismiss it",
	    "%s：告警 %s 为 3 级：只有值班领导（duty_leader）可以作误报处理" },
	{ "%s: who acts is missing: give "
	  "\"actor\":{\"user\":..,\"role\":..,\"agency\":..}",
	    "%s：缺少操作人：请提供 "
	    "\"actor\":{\"user\":..,\"role\":..,\"agency\":..}" },
	{ "unknown setting \"%s\" here%s", "此处不认识设置项 \"%s\"%s" },
	{ "\"%s\" is missing%s", "缺少 \"%s\"%s" },
	{ "\"%s\" must be a string%s", "\"%s\" 必须是字符串%s" },
	{ "\"cameras\" must be a list of strings%s%s",
	    "\"cameras\" 必须是字符串列表%s%s" },
	{ "code \"%s\" must be 1 to 32 ASCII letters, digits, '-' or '_'%s",
	    "编码 \"%s\" 必须由 1 至 32 个 ASCII 字母、数字、'-' 或 '_' "
	    "组成%s" },
	{ "location %s is defined twice%s", "场所 %s 重复定义%s" },
	{ "\"%s\" must be a list ( ... )%s", "\"%s\" 必须是列表 ( ... )%s" },
	{ "\"%s\" must be a list of groups { ... }%s",
	    "\"%s\" 必须是分组 { ... } 的列表%s" },
	{ "zone \"%s\" must be PERIMETER, AB_DOOR, WORKSHOP, HOSPITAL, "
	  "VISIT_ROOM, YARD, CANTEEN or GATE%s",
	    "区域类型 \"%s\" 必须是 "
	    "PERIMETER、AB_DOOR、WORKSHOP、HOSPITAL、VISIT_"
	    "ROOM、YARD、CANTEEN 或 GATE%s" },
	{ "\"cell_capacity\" must be an integer from 1 to 1000%s%s",
	    "\"cell_capacity\" 必须是 1 至 1000 之间的整数%s%s" },
	{ "\"cells\" must be a list of codes or groups%s%s",
	    "\"cells\" 必须是编码或分组的列表%s%s" },
	{ "\"capacity\" must be an integer from 1 to 1000%s%s",
	    "\"capacity\" 必须是 1 至 1000 之间的整数%s%s" },
	{ "cell \"%s\" has no capacity: give cell_capacity or capacity%s",
	    "监舍 \"%s\" 没有额定人数：请设置 cell_capacity 或 capacity%s" },
	{ "a layout is one group prison = { ... }%s%s",
	    "场所布局文件应为一个分组 prison = { ... }%s%s" },
	{ "Drafted from alarm %s (%s, level %lld)%s%s",
	    "根据告警 %s（%s，%lld 级）起草%s%s" },
	{ "%s\nAlarm %s resolved again (level %lld)%s%s",
	    "%s\n告警 %s 再次处置完毕（%lld 级）%s%s" },
	{ "alarm %s already has incident report %s",
	    "告警 %s 已有事件报告 %s" },
	{ "prison.incident.draft: give \"alarm_id\", or \"type\" and "
	  "\"location\"",
	    "prison.incident.draft：请提供 \"alarm_id\"，或 \"type\" 和 "
	    "\"location\"" },
	{ "prison.incident.draft: \"location\": %s is not a registered "
	  "location",
	    "prison.incident.draft：字段 \"location\"：%s 不是已登记的场所" },
	{ "prison.location.create: a PRISON id has no dot; every other "
	  "location is PARENT.CODE",
	    "prison.location.create：监狱（PRISON）编号不含点；其他场所编号为 "
	    "上级.编码" },
	{ "prison.location.create: a CELL needs \"capacity\" (the number of "
	  "prisoners it is rated for)",
	    "prison.location.create：监舍（CELL）须有 "
	    "\"capacity\"（额定关押人数）" },
	{ "prison.location.create: parent location %s does not exist",
	    "prison.location.create：上级场所 %s 不存在" },
	{ "prison.location.create: a %s belongs in a %s, and %s is a %s",
	    "prison.location.create：%s 应隶属于 %s，而 %s 是 %s" },
	{ "\"cell\": %s is not a registered location",
	    "字段 \"cell\"：%s 不是已登记的场所" },
	{ "\"cell\": location %s is a %s, not a CELL",
	    "字段 \"cell\"：场所 %s 是 %s，不是监舍（CELL）" },
	{ "cell %s is %s (%s): it takes no prisoner",
	    "监舍 %s 处于 %s 状态（%s）：不能收押罪犯" },
	{ "cell %s is full: %lld of capacity %lld",
	    "监舍 %s 已满：%lld 人，额定 %lld 人" },
	{ "prison.prisoner.admit: \"id\": prisoner number %s does not match "
	  "%s (option prisoner_number_pattern)",
	    "prison.prisoner.admit：字段 \"id\"：罪犯编号 %s 不符合格式 "
	    "%s（选项 prisoner_number_pattern）" },
	{ "prison.prisoner.admit: \"%s\": expected a date YYYY-MM-DD",
	    "prison.prisoner.admit：字段 \"%s\"：应为日期 YYYY-MM-DD" },
	{ "prison.prisoner.admit: \"sentence_end\" must be after "
	  "\"sentence_start\"",
	    "prison.prisoner.admit：刑期止日 \"sentence_end\" "
	    "必须晚于刑期起日 \"sentence_start\"" },
	{ "prison.prisoner.admit: a %s sentence has no \"sentence_end\"",
	    "prison.prisoner.admit：%s 刑罚没有刑期止日 \"sentence_end\"" },
	{ "%s: \"treatment\": expected one of %s",
	    "%s：字段 \"treatment\"（分级处遇）：应为以下之一：%s" },
	{ "\"prisoner_id\": %s is not in the register",
	    "字段 \"prisoner_id\"：%s 不在罪犯名册中" },
	{ "prisoner %s is %s", "罪犯 %s 处于“%s”状态" },
	{ "\"room\": %s is not a visiting room (%s)",
	    "字段 \"room\"：%s 不是会见室（%s）" },
	{ "no visiting slot free within 14 days (hours %s, rooms %s)",
	    "14 天内没有空闲的会见时段（会见时间 %s，会见室 %s）" },
	{ "roll call: \"counts\" must be a non-empty array of "
	  "{\"location\",\"expected\",\"counted\",\"out\",\"elsewhere\"}",
	    "点名：\"counts\" 必须是非空数组，元素为 "
	    "{\"location\",\"expected\",\"counted\",\"out\",\"elsewhere\"}" },
	{ "roll call: \"counts[%zu].location\": %s is not a registered "
	  "location",
	    "点名：字段 \"counts[%zu].location\"：%s 不是已登记的场所" },
	{ "roll call %s does not balance (%lld unaccounted for): flag it "
	  "instead of reconciling",
	    "点名 %s 人数不符（%lld "
	    "人去向不明）：请标记为人数不符，而不是核对完毕" },
	{ "roll call %s balances: reconcile it instead of flagging",
	    "点名 %s 人数相符：请核对完毕，而不是标记为人数不符" },
	{ "prison.rollcall.schedule: \"location\": %s is not a registered "
	  "location",
	    "prison.rollcall.schedule：字段 \"location\"：%s "
	    "不是已登记的场所" },
	/* duty.c */
	{ "%s: \"%s\": expected a date YYYY-MM-DD",
	    "%s：字段 \"%s\"：应为日期 YYYY-MM-DD" },
	{ "%s: \"shift\": %s is not a shift of the roster (%s; option "
	  "shifts)",
	    "%s：字段 \"shift\"：%s 不是值班表的班次（%s；选项 shifts）" },
	{ "%s: the duty officer and the duty leader of a shift are two "
	  "people",
	    "%s：同一班次的值班民警和值班领导须为两人" },
	{ "%s: give both \"date\" and \"shift\", or neither (the shift on "
	  "now)",
	    "%s：\"date\" 和 \"shift\" 须同时提供，或都不提供（当前班次）" },
	{ "%s: \"shift\": %s of %s is not a shift of the roster (%s; option "
	  "shifts)",
	    "%1$s：字段 \"shift\"：%2$s（%3$s）不是值班表的班次（%4$s；选项 "
	    "shifts）" },
	{ "%s: shift %s has no duty roster entry: set it first "
	  "(prison.roster.set)",
	    "%s：班次 %s 未排班：请先排班（prison.roster.set）" },
	{ "%s: the duty officer of shift %s is %s, not %s: only the outgoing "
	  "duty officer opens its handover",
	    "%s：班次 %s 的值班民警是 %s，不是 "
	    "%s：只有交班的值班民警可以发起交接班" },
	{ "%s: shift %s was handed over already (%s)",
	    "%s：班次 %s 已经交班（%s）" },
	{ "%s: the next shift %s has no duty roster entry: nobody to hand "
	  "over "
	  "to (prison.roster.set)",
	    "%s：下一班次 %s 未排班：没有接班人（prison.roster.set）" },
	{ "%s: handover %s is to %s, the next shift's duty officer, not to %s",
	    "%s：交接班 %s 的接班人是下一班次的值班民警 %s，不是 %s" },
	{ "the report of %s was made already (%s, %s)",
	    "%s 的报告已经生成（%s，%s）" },
	{ "%s: \"date\": %s is not over yet: a day is reported once it has "
	  "ended",
	    "%s：字段 \"date\"：%s 尚未结束：一天结束后才能报告" },
	/* legalvisit.c */
	{ "legal-aid case %s is assigned to provider %s, not to %s",
	    "法律援助案件 %s 指派的是 %s，不是 %s" },
	{ "legal-aid case %s is %s: no assignment in force",
	    "法律援助案件 %s 处于 %s 状态：没有有效的指派" },
	{ "legal-aid case %s is not for prisoner %s",
	    "法律援助案件 %s 的受援人不是罪犯 %s" },
	{ "assignment letter %s does not match the letter of legal-aid case "
	  "%s (%s)",
	    "指派函 %s 与法律援助案件 %s 的指派函（%s）不符" },
	{ "provider %s is not in the legal-aid directory",
	    "法律援助人员名录中没有 %s" },
	{ "licence %s is not the licence of provider %s in the legal-aid "
	  "directory (%s)",
	    "执业证号 %s 与法律援助人员名录中 %s 的执业证号（%s）不符" },
	{ "provider %s is not active in the legal-aid directory",
	    "%s 在法律援助人员名录中已停用" },
	{ "licence %s of provider %s and assignment letter %s of case %s "
	  "checked with the legal plugin",
	    "已向法律援助系统核验：%2$s 的执业证号 %1$s、案件 %4$s 的指派函 "
	    "%3$s" },
	/* records.c: visits */
	{ "%s: a LEGAL visit needs the lawyer's licence "
	  "(\"visitor\".\"licence\") and the letter (\"letter\": the "
	  "assignment letter of a legal-aid case, or the law firm's)",
	    "%s：律师会见须提供律师执业证号（\"visitor\".\"licence\"）和公函"
	    "（\"letter\"：法律援助指派函或律师事务所函）" },
	{ "%s: a legal-aid visit names both the provider "
	  "(\"visitor\".\"provider_id\") and the case (\"legal_aid_id\")",
	    "%s：法律援助会见须同时提供法律援助人员（\"visitor\".\"provider_"
	    "id\"）"
	    "和案件（\"legal_aid_id\"）" },
	/* the operator's log */
	{ "alarm %s: SLA escalation failed: %s", "告警 %s：超时升级失败：%s" },
	{ "alarm %s: %s; now level %lld, %s told",
	    "告警 %s：%s；现为 %lld 级，已通知%s" },
	{ "%s SLA of level %lld missed", "%s 阶段超过 %lld 级告警的处置时限" },
	{ "%s still pending at level %lld after %s was told",
	    "%s 阶段在 %lld 级时仍未处置（已通知%s）" },
	{ "alarm %s: cannot arm the SLA timer: %s",
	    "告警 %s：无法设置处置时限计时器：%s" },
	{ "re-armed %zu alarm SLA timer(s) from the store (%zu overdue)",
	    "已从存储恢复 %zu 个告警处置时限计时器（其中 %zu 个已超时）" },
	{ "option shifts: \"%s\" is not NAME=HH:MM-HH:MM (at most %d shifts)",
	    "选项 shifts：\"%s\" 不符合 名称=HH:MM-HH:MM 格式（最多 %d "
	    "个班次）" },
	{ "option shifts: \"%s\": %02d:%02d is covered by %d shifts; the "
	  "shifts must cover the day once",
	    "选项 shifts：\"%s\"：%02d:%02d 被 %d "
	    "个班次覆盖；各班次须恰好覆盖全天一次" },
	{ "daily report: %s", "日报：%s" },
	{ "%s %s: escalation failed: %s", "%s %s：升级失败：%s" },
	{ "layout.cfg (built in)", "layout.cfg（内置）" },
	{ "layout %s: %zu locations, %zu new",
	    "场所布局 %s：共 %zu 个场所，新建 %zu 个" },
	{ "seeded the demo register: %d prisoners",
	    "已生成演示罪犯名册：%d 名罪犯" },
	{ "seed: %s", "生成演示数据：%s" },
	{ "visit %s: cannot reject: %s", "会见 %s：无法驳回：%s" },
	{ "visit %s rejected: %s", "会见 %s 已驳回：%s" },
	{ "visit %s: the legal plugin could not be asked (%s): left for the "
	  "prison administration (prison_admin) to decide",
	    "会见 %s：无法向法律援助插件核实（%s）：交由狱政科（prison_"
	    "admin）决定" },
	{ "visit %s: cannot approve: %s", "会见 %s：无法批准：%s" },
	{ "visit %s approved but not booked: %s",
	    "会见 %s 已批准但未能预约：%s" },
	{ "option treatment_default \"%s\" is not one of treatment_levels "
	  "\"%s\"",
	    "选项 treatment_default \"%s\" 不在 treatment_levels \"%s\" "
	    "之中" },
	{ "option daily_report_at: \"%s\" is not a time HH:MM",
	    "选项 daily_report_at：\"%s\" 不是 HH:MM 格式的时间" },
	{ "subscribe: %s", "订阅：%s" },
	{ NULL, NULL },
};
