/* idcard.c - GB 11643-1999 citizen identity numbers (see idcard.h). */
#include <string.h>

#include "idcard.h"

char
kit_idcard_check_char(const char *s)
{
	/* ISO 7064 MOD 11-2: weights 2^(17-i) mod 11 */
	static const int w[17]
	    = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char c[11]
	    = { '1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2' };
	int sum = 0;

	if (s == NULL)
		return 0;
	for (int i = 0; i < 17; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		sum += (s[i] - '0') * w[i];
	}
	return c[sum % 11];
}

static int
digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int
kit_idcard_valid(const char *s)
{
	static const int mdays[12]
	    = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	char want, got;
	int  y, m, d;

	if (s == NULL || strlen(s) != 18)
		return 0;
	if ((want = kit_idcard_check_char(s)) == 0)
		return 0;
	got = s[17]; /* the standard's X is upper case: 'x' is refused */
	if (got != want)
		return 0;
	y = digits(s + 6, 4);
	m = digits(s + 10, 2);
	d = digits(s + 12, 2);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29
	    && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	return 1;
}
