/*
 * audit_cli.h - `xiezhi audit verify|query`: the command line of the
 * hash-chained audit trail (see plugins/audit).
 */
#ifndef XZ_AUDIT_CLI_H
#define XZ_AUDIT_CLI_H

/* argv[0] is "audit". Returns the process exit code. */
int xz_audit_cli_main(int argc, char **argv);

#include <stddef.h>

#include <xiezhi/i18n.h>

/* The audit chain library's verdict sentences and reason codes in 简体中文
 * (cli_msg.c), keyed by the library's English formats. */
extern const xz_tr xz_audit_zh[];

/* A detail or error sentence of the audit chain library (formatted
 * English) in the CLI's language: matched against the formats of
 * xz_audit_zh and rebuilt in Chinese into out (len bytes). en itself in
 * English, or when no format matches. */
const char *xz_cli_audit_text(const char *en, char *out, size_t len);
/* A reason code ("edited") as printed: the code, and in Chinese its label
 * after it ("edited（被修改）"), written to out when needed. */
const char *xz_cli_audit_reason(const char *code, char *out, size_t len);

#endif
