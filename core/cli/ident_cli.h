/*
 * ident_cli.h - `xiezhi login`, `logout`, `whoami` and `identity`
 * (ident_cli.c). Each takes main's argc/argv from its own name on and
 * returns the exit code.
 */
#ifndef XZ_CLI_IDENT_H
#define XZ_CLI_IDENT_H

#include "util/msg.h"

/* A usage text in both languages, named by its command rather than looked
 * up by its English (an edit of the English would lose the Chinese). */
typedef struct xz_usage {
	const char *en, *zh;
} xz_usage;

static inline const char *
xz_usage_text(const xz_usage *u)
{
	return xz_text_zh() ? u->zh : u->en;
}

extern const xz_usage xz_usage_login, xz_usage_logout, xz_usage_whoami,
    xz_usage_identity;

int xz_cli_login(int argc, char **argv);
int xz_cli_logout(int argc, char **argv);
int xz_cli_whoami(int argc, char **argv);
int xz_cli_identity(int argc, char **argv);

#endif
