/*
 * audit_cli.h - `xiezhi audit verify|query`: the command line of the
 * hash-chained audit trail (see plugins/audit).
 */
#ifndef XZ_AUDIT_CLI_H
#define XZ_AUDIT_CLI_H

/* argv[0] is "audit". Returns the process exit code. */
int xz_audit_cli_main(int argc, char **argv);

#endif
