/* Placeholder until the audit trail lands. */
#include <stdio.h>

#include "audit_cli.h"

int
xz_audit_cli_main(int argc, char **argv)
{
	(void) argc;
	(void) argv;
	fprintf(stderr, "xiezhi audit: not available in this build\n");
	return 1;
}
