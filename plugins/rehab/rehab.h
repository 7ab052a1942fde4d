/*
 * rehab.h - the compulsory isolated drug rehabilitation plugin: residents
 * and their four phases, assessments (staff or the AI+AR system), phase
 * transitions gated by passing assessments, dispositions proposed to the
 * outside deciding authority, correction plans.
 */
#ifndef XZ_REHAB_H
#define XZ_REHAB_H

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

typedef struct rehab {
	kit_ctx  c;
	kit_kind kinds[RK_N];
	int64_t  term_months;
	int64_t  handbook_days;
	int64_t  phase_min_days[3]; /* detox, education, consolidation */
	int64_t  early_release_min_days;
	int64_t  extension_max_months;
	int64_t  community_rehab_max_months;
	uint64_t sweep_timer; /* statutory clocks (handbook) */
} rehab;

#define REHAB_DAY_MS (86400LL * 1000)

/* resident.c */
int rehab_resident_serve(rehab *h);
/* ms + months on the calendar (UTC). */
int64_t rehab_add_months(int64_t ms, int64_t months);

/* assessment.c */
int rehab_assessment_serve(rehab *h);
/* The newest APPROVED and passed assessment of resident `rid` whose kind
 * is one of kinds (NULL-terminated) and, if phase is non-NULL, taken in
 * that phase. Caller owns the result; NULL if none. */
json_t *rehab_passing_assessment(
    rehab *h, const char *rid, const char *const *kinds, const char *phase);

/* casework.c: dispositions and correction plans */
int rehab_casework_serve(rehab *h);

#endif
