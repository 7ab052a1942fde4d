/*
 * collab.h - cross-department case collaboration: the case transfer's
 * state machine (collab_fsm.c), on the kit of plugins/common.
 */
#ifndef XZ_COLLAB_H
#define XZ_COLLAB_H

#include <stddef.h>
#include <stdint.h>

#include "kit.h"

/* SENT -> RECEIVED -> ACCEPTED | PARTIALLY_ACCEPTED | RETURNED ...
 * (docs/collab.md). Record kind "transfer". */
extern const kit_fsm collab_transfer_fsm;

/* Which side of a transfer may take an action (with check_agency). */
enum collab_party { COLLAB_SENDER, COLLAB_RECEIVER, COLLAB_EITHER };
enum collab_party collab_party(const char *action);

/* The refusal of `action` on transfer `id` in `state`, into buf:
 * "transfer 'T' is SENT: cannot accept; allowed: receive", and
 * "allowed: none (final state)" in a terminal state. */
void collab_refusal(const char *id, const char *state, const char *action,
    char *buf, size_t size);

/* The catalog of agencies and instruments (catalog.c), from a libconfig
 * file (config/collab-catalog.cfg) or the built-in copy of it. */
typedef struct collab_type {
	char *id, *name; /* "PUBLIC_SECURITY", "公安机关" */
} collab_type;
typedef struct collab_agency {
	char *id, *type, *name; /* "police-01", "PUBLIC_SECURITY", .. */
} collab_agency;
typedef struct collab_clock {
	char   *name; /* "notify" */
	char   *met; /* the state that meets it: RECEIVED, ACCEPTED, DECIDED */
	char   *to; /* only when the receiver is of this type (NULL: always) */
	int64_t days;
} collab_clock;
typedef struct collab_instrument {
	char         *id, *name, *basis;
	char        **from, **to; /* agency types, NULL-terminated */
	char        **send_roles; /* role ids, NULL-terminated */
	collab_clock *clocks;
	size_t        nclocks;
} collab_instrument;
typedef struct collab_catalog {
	collab_type       *types;
	size_t             ntypes;
	collab_agency     *agencies;
	size_t             nagencies;
	collab_instrument *instruments;
	size_t             ninstruments;
} collab_catalog;

/* Load from the file at path, or (path NULL) from text. 0, or -1 with
 * "FILE:LINE: what" in err. The catalog owns its strings:
 * collab_catalog_free. */
int  collab_catalog_load(collab_catalog *cat, const char *path,
     const char *text, char *err, size_t n);
void collab_catalog_free(collab_catalog *cat);
int  collab_type_known(const collab_catalog *cat, const char *id);
const collab_agency *collab_agency_find(
    const collab_catalog *cat, const char *id);
const collab_instrument *collab_instrument_find(
    const collab_catalog *cat, const char *id);
int collab_strv_has(char *const *v, const char *s);

#endif
