/*
 * idcard.h - the citizen identity number (公民身份号码, GB 11643-1999),
 * the person identifier shared by the prison, rehab, legal and collab
 * records: 18 characters, a 6-digit region code (first digit 1-9), the
 * birth date YYYYMMDD (a real date, 1900-01-01 up to 2099-12-31), a
 * 3-digit sequence and the ISO 7064 MOD 11-2 check character (0-9 or X).
 */
#ifndef XZ_KIT_IDCARD_H
#define XZ_KIT_IDCARD_H

/* 1 if s is a valid 18-character identity number, else 0 (also NULL). */
int kit_idcard_valid(const char *s);

/* The check character ('0'..'9' or 'X') of the first 17 characters of s,
 * or 0 if they are not 17 digits (to make numbers for demo data). */
char kit_idcard_check_char(const char *s);

#endif
