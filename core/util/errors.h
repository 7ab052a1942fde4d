/*
 * errors.h - the kernel's view of the SDK's error list (enum xz_err):
 * the message for people and the code a reply carries on the wire.
 */
#ifndef XZ_UTIL_ERRORS_H
#define XZ_UTIL_ERRORS_H

#include <xiezhi/xiezhi.h>

/* "invalid argument", ...; "unknown error" outside the list. */
const char *xz_strerror(int err);
/* The reply code of an error reply for err ("bad_request", ...). */
const char *xz_err_code(int err);

#endif
