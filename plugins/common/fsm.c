/* fsm.c - transition-table state machines (see fsm.h). */
#include <stdio.h>
#include <string.h>

#include <xiezhi/i18n.h>

#include "fsm.h"

/* The refusal in 简体中文 under a zh LANG (<xiezhi/i18n.h>); the state and
 * the actions stay ASCII identifiers. */
static const xz_tr kit_fsm_zh[] = {
	{ "%s %s is %s: %s is not allowed (allowed: %s)",
	    "%s %s 处于 %s 状态：不允许执行 %s（可执行的操作：%s）" },
	{ "none", "无（终结状态）" },
	{ NULL, NULL },
};

const kit_transition *
kit_fsm_find(const kit_fsm *m, const char *state, const char *action)
{
	for (size_t i = 0; i < m->nrows; i++) {
		const kit_transition *t = &m->rows[i];
		if (strcmp(t->action, action) == 0
		    && strcmp(t->from, state) == 0)
			return t;
	}
	return NULL;
}

int
kit_fsm_has_action(const kit_fsm *m, const char *action)
{
	for (size_t i = 0; i < m->nrows; i++)
		if (strcmp(m->rows[i].action, action) == 0)
			return 1;
	return 0;
}

int
kit_fsm_is_terminal(const kit_fsm *m, const char *state)
{
	for (const char *const *t = m->terminal; t && *t; t++)
		if (strcmp(*t, state) == 0)
			return 1;
	return 0;
}

void
kit_fsm_allowed(const kit_fsm *m, const char *state, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < m->nrows; i++) {
		const kit_transition *t   = &m->rows[i];
		int                   dup = 0;
		if (strcmp(t->from, state) != 0)
			continue;
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->rows[j].from, state) == 0
			    && strcmp(m->rows[j].action, t->action) == 0)
				dup = 1;
		if (dup)
			continue;
		int n = snprintf(buf + used, size - used, "%s%s",
		    used ? ", " : "", t->action);
		if (n < 0 || (size_t) n >= size - used) {
			buf[used] = '\0'; /* keep whole actions only */
			break;
		}
		used += (size_t) n;
	}
	if (used == 0)
		snprintf(buf, size, "none");
}

void
kit_fsm_refusal(const kit_fsm *m, const char *id, const char *state,
    const char *action, char *buf, size_t size)
{
	char allowed[256];

	kit_fsm_allowed(m, state, allowed, sizeof(allowed));
	snprintf(buf, size,
	    XZ_TR(kit_fsm_zh, "%s %s is %s: %s is not allowed (allowed: %s)"),
	    m->name, id, state, action,
	    strcmp(allowed, "none") == 0 ? XZ_TR(kit_fsm_zh, "none")
	                                 : allowed);
}
