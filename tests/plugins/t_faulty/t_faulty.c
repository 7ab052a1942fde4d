/*
 * t_faulty: a plugin that fails on purpose, to test isolation = "process"
 * (tests/integration/t_isolation.sh). Never load it into a node that
 * matters: most of its faults take the process with them.
 *
 * Option `fault`: what a request on <name>.boom does:
 *   "segv"    dereferences NULL (SIGSEGV)
 *   "abort"   calls abort() (SIGABRT)
 *   "leak"    allocates and touches leak_mb MiB it never frees, replies
 *   "block"   never returns from the handler
 *   "garbage" writes bytes that are no frame to file descriptor 3 (the
 *             child's link to the node), then replies
 *   "flood"   logs 100000 lines in one handler
 *   "exit"    exits with status 3
 * Option `exit_in_init` = true: exits with status 4 in init.
 * <name>.ping answers {"pid":..,"ticks":..,"boom":..}: ticks counts a
 * 20 ms timer armed in start, so a restarted child shows its timer back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xiezhi/xiezhi.h>

typedef struct faulty {
	xz_plugin     *self;
	const xz_host *host;
	const char    *fault;
	int64_t        leak_mb;
	int64_t        ticks, booms;
	char           ping[160], boom[160];
} faulty;

/* The last leaked block: the leak escapes, so no optimiser removes the
 * allocation and its writes. Never freed, by design. */
static void *volatile leaked;

static void
on_tick(void *ud, uint64_t id)
{
	(void) id;
	((faulty *) ud)->ticks++;
}

static void
on_ping(void *ud, const xz_msg *m)
{
	faulty *f = ud;
	char    buf[160];
	int     n = snprintf(buf, sizeof(buf),
	        "{\"pid\":%ld,\"ticks\":%lld,\"boom\":%lld}", (long) getpid(),
	        (long long) f->ticks, (long long) f->booms);
	f->host->reply(f->self, m, buf, (size_t) n);
}

static void
on_boom(void *ud, const xz_msg *m)
{
	faulty *f = ud;

	f->booms++;
	f->host->counter_add(f->self, "booms", 1);
	if (strcmp(f->fault, "segv") == 0) {
		volatile int *volatile p = NULL;
		*p                       = 1;
	} else if (strcmp(f->fault, "abort") == 0) {
		abort();
	} else if (strcmp(f->fault, "leak") == 0) {
		size_t n = (size_t) f->leak_mb * 1024 * 1024;
		char  *p = malloc(n);
		if (p != NULL) {
			memset(p, 0x5a, n); /* resident, never freed */
			leaked = p; /* escapes: the optimiser keeps it */
		}
	} else if (strcmp(f->fault, "block") == 0) {
		for (;;)
			pause();
	} else if (strcmp(f->fault, "garbage") == 0) {
		static const char junk[] = "\x10\x00\x00\x00\xeenot a frame!";
		(void) !write(3, junk, sizeof(junk) - 1);
	} else if (strcmp(f->fault, "flood") == 0) {
		for (int i = 0; i < 100000; i++)
			f->host->log(f->self, XZ_LOG_WARN, "flood line %d", i);
	} else if (strcmp(f->fault, "exit") == 0) {
		_exit(3);
	}
	f->host->reply(f->self, m, "{\"ok\":true}", 11);
}

static const xz_option_decl options[] = {
	{ "fault", XZ_OPT_STRING, "segv", 0, "what <name>.boom does", 0, 0 },
	{ "leak_mb", XZ_OPT_INT, "16", 0, "MiB leaked per leak", 1, 1024 },
	{ "exit_in_init", XZ_OPT_BOOL, "false", 0, "exit(4) in init", 0, 0 },
	{ NULL, 0, NULL, 0, NULL, 0, 0 },
};

static int
f_init(xz_plugin *self, const xz_host *host, void **state)
{
	faulty *f  = calloc(1, sizeof(*f));
	int     ex = 0;

	if (f == NULL)
		return XZ_ENOMEM;
	f->self  = self;
	f->host  = host;
	f->fault = host->opt_string(self, "fault");
	host->opt_int(self, "leak_mb", &f->leak_mb);
	host->opt_bool(self, "exit_in_init", &ex);
	if (ex)
		_exit(4);
	snprintf(f->ping, sizeof(f->ping), "%s.ping", host->name(self));
	snprintf(f->boom, sizeof(f->boom), "%s.boom", host->name(self));
	if (host->subscribe(self, f->ping, NULL, on_ping, f, NULL) != XZ_OK
	    || host->subscribe(self, f->boom, NULL, on_boom, f, NULL)
	        != XZ_OK) {
		free(f);
		return XZ_EINTERNAL;
	}
	*state = f;
	return XZ_OK;
}

static int
f_start(void *state)
{
	faulty *f = state;
	return f->host->timer_start(f->self, 20, 20, on_tick, f, NULL);
}

static void
f_fini(void *state)
{
	free(state);
}

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "t_faulty",
	.version     = "1.0.0",
	.description = "fails on purpose (isolation tests)",
	.options     = options,
	.init        = f_init,
	.start       = f_start,
	.fini        = f_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
