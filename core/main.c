#include <stdio.h>
int
main(void)
{
	fputs("xiezhi: not built yet\n", stderr);
	return 1;
}
