/*
 * msg.h - the kernel's and the CLI's human-facing texts in 简体中文 and
 * English, gettext style: the English format string is the key.
 *
 * Each layer keeps its catalog in one file (config/config_msg.c,
 * kernel/kernel_msg.c, cli/cli_msg.c: static {English, 中文} pairs of
 * <xiezhi/i18n.h>) and registers it; code prints xz_text("English %s"),
 * and xz_log and the config diagnostics look their format up themselves.
 * The language is the process's (LC_ALL, LC_MESSAGES, LANG: the first
 * non-empty; "zh*" is Chinese), read from the variables only, so no zh_CN
 * locale needs to be installed. Error codes, topics and JSON stay ASCII.
 */
#ifndef XZ_UTIL_MSG_H
#define XZ_UTIL_MSG_H

#include <stddef.h>
#include <xiezhi/i18n.h>

/* Add a catalog (static, ending with {NULL, NULL}) to those xz_text reads.
 * Adding one twice is a no-op. Call it before other threads look texts up
 * (at start); at most 16 catalogs. */
void xz_text_register(const xz_tr *cat);
/* en in the process's language: the Chinese of the first registered
 * catalog that has en, else en itself. Never NULL for a non-NULL en. */
const char *xz_text(const char *en) __attribute__((format_arg(1)));
/* 1 when the language is Chinese. */
int xz_text_zh(void);
/* Check a catalog: every Chinese text has the English one's printf
 * conversions in the same order, and no English key appears twice.
 * 0, or -1 with why (the first problem) written to why. */
int xz_text_check(const xz_tr *cat, char *why, size_t len);

#endif
