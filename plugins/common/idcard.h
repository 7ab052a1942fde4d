/*
 * idcard.h - the citizen identity number (公民身份号码, GB 11643-1999):
 * 17 digits (6-digit address code, 8-digit birth date YYYYMMDD, 3-digit
 * sequence) and a check character computed with ISO 7064 MOD 11-2
 * ('0'..'9' or 'X'). It is the person identifier shared by the prison,
 * rehab, legal and collab records.
 */
#ifndef XZ_KIT_IDCARD_H
#define XZ_KIT_IDCARD_H

/* 1 if s is an 18-character citizen identity number whose birth date is a
 * real date and whose check character is right (an upper-case 'X' only);
 * 0 otherwise (NULL included). */
int kit_idcard_valid(const char *s);

/* The check character ('0'..'9' or 'X') of the first 17 digits of s, or 0
 * if they are not 17 digits. */
char kit_idcard_check_char(const char *s);

#endif
