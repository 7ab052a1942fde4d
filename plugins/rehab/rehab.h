/*
 * rehab.h - the compulsory isolated drug rehabilitation plugin (强制隔离
 * 戒毒, 禁毒法 arts. 38-48): residents and their four phases, diagnostic
 * assessments (staff or the AI+AR system), phase transitions gated by
 * passing assessments, early-release and extension proposals sent to the
 * deciding public-security authority through collab (decided there),
 * 社区康复 handoff to the township on release, correction plans.
 */
#ifndef XZ_REHAB_H
#define XZ_REHAB_H

#include <xiezhi/i18n.h>

#include "fields.h"
#include "kit.h"

enum rehab_kind_id {
	RK_RESIDENT,
	RK_ASSESSMENT,
	RK_DISPOSITION,
	RK_PLAN,
	RK_N
};

extern const kit_fsm rehab_resident_fsm;
extern const kit_fsm rehab_assessment_fsm;
extern const kit_fsm rehab_disposition_fsm;
extern const kit_fsm rehab_plan_fsm;

/* 禁毒法 art. 47: the term is 2 years; an extension at most 1 year in
 * total; early release may be proposed after 1 year. */
#define REHAB_TERM_MONTHS 24
#define REHAB_EXTENSION_MAX_MONTHS 12
#define REHAB_EARLY_MIN_MONTHS 12
#define REHAB_COMMUNITY_MAX_MONTHS 36 /* 禁毒法 art. 48 */

typedef struct rehab {
	kit_ctx     c;
	kit_kind    kinds[RK_N];
	int64_t     handbook_days;
	int64_t     phase_min_days[3]; /* detox, education, consolidation */
	const char *agency; /* this centre's agency id (kernel-owned) */
	const char *community_agency; /* 社区康复: the township */
	const char *collab_plugin; /* whose decided events are trusted */
	uint64_t    sweep_timer; /* statutory clocks (handbook) */
} rehab;

#define REHAB_DAY_MS (86400LL * 1000)

/* msg_zh.c: the plugin's messages in 简体中文 */
extern const xz_tr rehab_zh[];
#define RTR(s) XZ_TR(rehab_zh, s)
/* The 简体中文 label of a phase or state id ("生理脱毒期"). */
const char *rehab_label(const char *id);

/* serve.c: request routing with roles and field checks */
int rehab_serve_all(rehab *h);

/* resident.c */
void rehab_admit_fn(const kit_kind *k, kit_req *r);
void rehab_resident_hooks(rehab *h);
/* ms + months on the calendar (UTC). */
int64_t rehab_add_months(int64_t ms, int64_t months);

/* assessment.c */
void rehab_assessment_record_fn(const kit_kind *k, kit_req *r);
int  rehab_assessment_subscribe(rehab *h);
/* The newest APPROVED and passed assessment of resident `rid` whose kind
 * is one of kinds (NULL-terminated) and, if phase is non-NULL, taken in
 * that phase. Caller owns the result; NULL if none. */
json_t *rehab_passing_assessment(
    rehab *h, const char *rid, const char *const *kinds, const char *phase);

/* casework.c: dispositions (through collab) and correction plans */
void rehab_propose_fn(const kit_kind *k, kit_req *r);
void rehab_submit_fn(const kit_kind *k, kit_req *r);
void rehab_plan_draft_fn(const kit_kind *k, kit_req *r);
void rehab_casework_hooks(rehab *h);
int  rehab_casework_subscribe(rehab *h);
/* outbox.c: send a package to collab.transfer.send as the actor of r;
 * fn(ud, status, reply) runs exactly once (at once on a failed request). */
int rehab_collab_send(
    rehab *h, kit_req *r, json_t *pkg, xz_reply_fn fn, void *ud);

#endif
