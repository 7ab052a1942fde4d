/*
 * bad_initfail: init subscribes to "initfail.>" (events and requests) and
 * arms a 1 ms periodic timer, publishes an event to itself and waits 20 ms
 * (so the event is queued and the timer has fired), then returns XZ_EIO. After
 * a failed init the kernel must run no callback of the plugin: every callback
 * here appends its name to the file named by the option `marker`, so the file
 * must never appear.
 */
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xiezhi/xiezhi.h>

static char marker[512];

static void
mark(const char *what)
{
	int fd = open(marker, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return;
	(void) !write(fd, what, strlen(what));
	(void) !write(fd, "\n", 1);
	close(fd);
}

static void
nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void
on_msg(void *ud, const xz_msg *msg)
{
	(void) ud;
	(void) msg;
	mark("handler");
}

static void
on_timer(void *ud, uint64_t id)
{
	(void) ud;
	(void) id;
	mark("timer");
}

static int
p_init(xz_plugin *self, const xz_host *host, void **state)
{
	const char *m = host->opt_string(self, "marker");
	int         rc;

	*state = NULL;
	if (m == NULL || strlen(m) >= sizeof(marker))
		return XZ_EINVAL;
	strcpy(marker, m);
	if ((rc = host->subscribe(
	         self, "initfail.>", NULL, on_msg, NULL, NULL))
	    != XZ_OK)
		return rc;
	if ((rc = host->timer_start(self, 1, 1, on_timer, NULL, NULL))
	    != XZ_OK)
		return rc;
	/* An event to itself now sits in its mailbox, and the timer gets
	 * time to fire: neither may reach a callback after the failure. */
	if ((rc = host->publish(self, "initfail.self", "{}", 2)) != XZ_OK)
		return rc;
	nap_ms(20);
	return XZ_EIO;
}

static int
p_start(void *state)
{
	(void) state;
	mark("start");
	return XZ_OK;
}

static void
p_stop(void *state)
{
	(void) state;
	mark("stop");
}

static void
p_fini(void *state)
{
	(void) state;
	mark("fini");
}

static const xz_option_decl options[] = {
	{ .name          = "marker",
	    .type        = XZ_OPT_STRING,
	    .required    = 1,
	    .description = "file every callback appends its name to" },
	{ NULL },
};

static const xz_plugin_desc desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "bad_initfail",
	.version     = "1.0.0",
	.description = "fails init after subscribing and arming a timer",
	.options     = options,
	.init        = p_init,
	.start       = p_start,
	.stop        = p_stop,
	.fini        = p_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &desc;
}
