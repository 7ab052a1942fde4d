/*
 * reply.h - the closed set of codes an error reply may carry
 * ({"error":{"code":CODE,"message":TEXT}}), as an enum: the platform's C
 * plugins name a code by its constant and never write a free string.
 * Put what a person needs (which field, which state, which limit) in the
 * message, not in the code.
 *
 *   bad_request        the payload is malformed, or a field is missing, of
 *                      the wrong type or out of range (the message names it)
 *   not_found          the record the request names does not exist
 *   invalid_state      the record's state does not allow the action (the
 *                      message names the state and the allowed actions)
 *   forbidden          the actor may not do this (the refusal is audited)
 *   exists             a record with this id or key already exists
 *   capacity_exceeded  a business limit is reached (a full cell, a case load)
 *   store_error        the plugin's database failed; nothing was changed
 *   timeout            no reply before the deadline (a request it made)
 *   no_responders      nothing serves a topic it needed
 *   unavailable        it cannot serve now (stopping, a service it needs is
 *                      down, nobody can take the work): retry later
 *   too_large          a payload, field or result is over a size limit
 *   internal           a bug or resource failure on the plugin's side
 *   audit_unavailable  the change's audit record could not be made durable
 *                      (spool full or failing): nothing was changed
 *   durable_full       an event on a durable topic was refused: the node's
 *                      durable log is full
 *
 * (The list and its meanings are the SDK's: XZ_REPLY_CODE_LIST.)
 *
 * The Lua legal plugin keeps the same list (legal.lua, REPLY_CODES).
 */
#ifndef XZ_KIT_REPLY_H
#define XZ_KIT_REPLY_H

#include <xiezhi/xiezhi.h>

/* The SDK's XZ_REPLY_CODE_LIST, in its order, as enum constants (reply.c
 * checks at compile time that the two lists have the same length; the
 * strings come from the SDK alone). */
#define KIT_CODE_LIST(X)                                                      \
	X(KIT_E_BAD_REQUEST)                                                  \
	X(KIT_E_NOT_FOUND)                                                    \
	X(KIT_E_INVALID_STATE)                                                \
	X(KIT_E_FORBIDDEN)                                                    \
	X(KIT_E_EXISTS)                                                       \
	X(KIT_E_CAPACITY_EXCEEDED)                                            \
	X(KIT_E_STORE_ERROR)                                                  \
	X(KIT_E_TIMEOUT)                                                      \
	X(KIT_E_NO_RESPONDERS)                                                \
	X(KIT_E_UNAVAILABLE)                                                  \
	X(KIT_E_TOO_LARGE)                                                    \
	X(KIT_E_INTERNAL)                                                     \
	X(KIT_E_UNAUTHENTICATED)                                              \
	X(KIT_E_AUDIT_UNAVAILABLE)                                            \
	X(KIT_E_DURABLE_FULL)

#define KIT_CODE_ENUM_(sym) sym,
typedef enum kit_code { KIT_CODE_LIST(KIT_CODE_ENUM_) KIT_E_COUNT } kit_code;
#undef KIT_CODE_ENUM_

/* The wire string of a code ("internal" for a value outside the list). */
const char *kit_code_name(kit_code code);

/* host->reply_error with a code of the list; message is copied. */
int kit_reply_error(const xz_host *host, xz_plugin *self, const xz_msg *req,
    kit_code code, const char *message);

#endif
