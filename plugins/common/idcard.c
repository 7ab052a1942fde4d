/* idcard.c - GB 11643-1999 identity numbers (see idcard.h). */
#include <string.h>

#include "idcard.h"

int
kit_idcard_valid(const char *s)
{
	static const int w[17]
	    = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char check[] = "10X98765432";
	static const int  mdays[]
	    = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int sum = 0, y, m, d, dim;

	if (s == NULL || strlen(s) != 18 || s[0] < '1' || s[0] > '9')
		return 0;
	for (int i = 0; i < 17; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		sum += (s[i] - '0') * w[i];
	}
	y = (s[6] - '0') * 1000 + (s[7] - '0') * 100 + (s[8] - '0') * 10
	    + (s[9] - '0');
	m = (s[10] - '0') * 10 + (s[11] - '0');
	d = (s[12] - '0') * 10 + (s[13] - '0');
	if (y < 1900 || y > 2099 || m < 1 || m > 12)
		return 0;
	dim = mdays[m - 1]
	    + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	if (d < 1 || d > dim)
		return 0;
	return s[17] == check[sum % 11];
}

char
kit_idcard_check_char(const char *s)
{
	static const int  w[17]
	    = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	static const char check[] = "10X98765432";
	int               sum     = 0;

	if (s == NULL)
		return 0;
	for (int i = 0; i < 17; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		sum += (s[i] - '0') * w[i];
	}
	return check[sum % 11];
}
