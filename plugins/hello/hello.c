/*
 * hello - the smallest real plugin of the default deployment, and a model
 * to read before writing one (docs/sdk.md is the guide).
 *
 *   request hello.greet     {"name":"Ada"}
 *                           -> {"greeting":"Hello, Ada!","count":1}
 *                           count: greetings answered by this instance
 *                           since it started. "name" is optional (default
 *                           "world"); anything else than a JSON object
 *                           whose "name" is a string of 1..64 bytes gets
 *                           the error reply "bad_request".
 *   event   hello.heartbeat {"plugin":"hello","seq":1,"time_ms":...}
 *                           every interval_ms on the kernel clock, while
 *                           heartbeat is true.
 *
 * Options (plugins = ( { name = "hello"; options = { ... }; } );):
 *   greeting     string  "Hello"   the word before the name
 *   interval_ms  int     10000     heartbeat period, 100..86400000
 *   heartbeat    bool    true      publish hello.heartbeat at all
 *
 * Counters (xiezhi status): greetings, bad_requests, heartbeats,
 * publish_errors.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <xiezhi/i18n.h>
#include <xiezhi/xiezhi.h>

#define HELLO_NAME_MAX 64

/* The log lines in 简体中文 (<xiezhi/i18n.h>): the node's LANG (or
 * LC_MESSAGES, LC_ALL) starting with "zh" picks them, HT("English") is the
 * text to print. Replies stay as they are: "greeting" is the option's. */
static const xz_tr hello_zh[] = {
	{ "%s: reply failed: %s", "%s：应答失败：%s" },
	{ "hello.heartbeat %llu not published: %s",
	    "hello.heartbeat %llu 未能发布：%s" },
	{ "cannot read options", "无法读取选项" },
	{ "subscribe hello.greet: %s", "订阅 hello.greet：%s" },
	{ "heartbeat timer: %s", "心跳计时器：%s" },
	{ "heartbeat every %lld ms", "每 %lld 毫秒发送一次心跳" },
	{ NULL, NULL },
};
#define HT(s) XZ_TR(hello_zh, s)

/* Everything the instance owns. One per instance: the kernel may load the
 * same .so under two names, so nothing lives in globals. */
struct hello {
	xz_plugin     *self;
	const xz_host *host;
	const char    *greeting; /* owned by the kernel, valid until fini */
	int64_t        interval_ms;
	int            heartbeat;
	uint64_t       timer; /* 0: no heartbeat timer running */
	uint64_t       greetings; /* answered since start */
	uint64_t       seq; /* last heartbeat sequence number */
};

static const char *const hello_counters[]
    = { "greetings", "bad_requests", "heartbeats", "publish_errors" };

static const xz_option_decl hello_options[] = {
	{ .name          = "greeting",
	    .type        = XZ_OPT_STRING,
	    .def         = "Hello",
	    .description = "the word before the name in a greeting" },
	{ .name          = "interval_ms",
	    .type        = XZ_OPT_INT,
	    .def         = "10000",
	    .description = "period of hello.heartbeat, in milliseconds",
	    .min         = 100,
	    .max         = 86400000 },
	{ .name          = "heartbeat",
	    .type        = XZ_OPT_BOOL,
	    .def         = "true",
	    .description = "publish hello.heartbeat every interval_ms" },
	{ NULL },
};

/* Reply to req with obj (a JSON object) and drop our reference to it. */
static void
reply_json(struct hello *h, const xz_msg *req, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	int   rc;

	json_decref(obj);
	if (s == NULL) {
		h->host->reply_error(
		    h->self, req, "internal", "out of memory");
		return;
	}
	if ((rc = h->host->reply(h->self, req, s, strlen(s))) != XZ_OK)
		h->host->log(h->self, XZ_LOG_WARN, HT("%s: reply failed: %s"),
		    req->topic, h->host->strerror(rc));
	free(s);
}

/* hello.greet: a request handler. msg is valid only during this call. */
static void
on_greet(void *ud, const xz_msg *msg)
{
	struct hello *h    = ud;
	const char   *name = "world";
	json_error_t  jerr;
	json_t       *req, *jname;

	if (msg->kind != XZ_KIND_REQUEST) /* someone published an event */
		return;
	req = json_loadb(msg->data, msg->len, 0, &jerr);
	if (req == NULL || !json_is_object(req)) {
		json_decref(req);
		h->host->counter_add(h->self, "bad_requests", 1);
		h->host->reply_error(h->self, msg, "bad_request",
		    "hello.greet: the payload must be a JSON object");
		return;
	}
	jname = json_object_get(req, "name");
	if (jname != NULL) {
		size_t n
		    = json_is_string(jname) ? json_string_length(jname) : 0;
		if (n == 0 || n > HELLO_NAME_MAX) {
			json_decref(req);
			h->host->counter_add(h->self, "bad_requests", 1);
			h->host->reply_error(h->self, msg, "bad_request",
			    "hello.greet: \"name\" must be a string of 1 to "
			    "64 bytes");
			return;
		}
		name = json_string_value(jname);
	}
	h->greetings++;
	h->host->counter_add(h->self, "greetings", 1);
	/* "o" hands the new string to the object: one decref frees both. */
	reply_json(h, msg,
	    json_pack("{s:o,s:I}", "greeting",
	        json_sprintf("%s, %s!", h->greeting, name), "count",
	        (json_int_t) h->greetings));
	json_decref(req); /* last: name points into req */
}

/* The heartbeat timer: runs in the actor, on the kernel clock. */
static void
on_heartbeat(void *ud, uint64_t timer_id)
{
	struct hello *h = ud;
	json_t       *ev;
	char         *s;
	int           rc;

	(void) timer_id;
	ev = json_pack("{s:s,s:I,s:I}", "plugin", h->host->name(h->self),
	    "seq", (json_int_t) ++h->seq, "time_ms",
	    (json_int_t) h->host->now_ms(h->self));
	s  = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (s == NULL)
		return;
	/* A business topic: with a subscriber's mailbox full this waits up
	 * to the node's publish deadline and then fails; count it, keep
	 * going (the next beat is a fresh attempt). */
	rc = h->host->publish(h->self, "hello.heartbeat", s, strlen(s));
	free(s);
	if (rc == XZ_ECLOSED) /* the node is stopping: not an error */
		return;
	if (rc != XZ_OK) {
		h->host->counter_add(h->self, "publish_errors", 1);
		h->host->log(h->self, XZ_LOG_WARN,
		    HT("hello.heartbeat %llu not published: %s"),
		    (unsigned long long) h->seq, h->host->strerror(rc));
		return;
	}
	h->host->counter_add(h->self, "heartbeats", 1);
}

/* init: read options, allocate state, subscribe. The state is freed by
 * hello_fini, or here before an error is returned (after a failed init no
 * callback runs, not even fini). */
static int
hello_init(xz_plugin *self, const xz_host *host, void **state)
{
	struct hello *h;
	int           rc;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return XZ_ENOMEM;
	h->self = self;
	h->host = host;
	/* The kernel has validated and defaulted every option already:
	 * these only fail on a bug (a name not in hello_options). */
	if ((h->greeting = host->opt_string(self, "greeting")) == NULL
	    || (rc = host->opt_int(self, "interval_ms", &h->interval_ms))
	        != XZ_OK
	    || (rc = host->opt_bool(self, "heartbeat", &h->heartbeat))
	        != XZ_OK) {
		host->log(self, XZ_LOG_ERROR, "%s", HT("cannot read options"));
		free(h);
		return XZ_EINTERNAL;
	}
	rc = host->subscribe(self, "hello.greet", NULL, on_greet, h, NULL);
	if (rc != XZ_OK) {
		host->log(self, XZ_LOG_ERROR, HT("subscribe hello.greet: %s"),
		    host->strerror(rc));
		free(h);
		return rc;
	}
	/* Counters appear in `xiezhi status` from the first add: show them
	 * at zero from the start. */
	for (size_t i = 0;
	     i < sizeof(hello_counters) / sizeof(*hello_counters); i++)
		host->counter_add(self, hello_counters[i], 0);
	*state = h;
	return XZ_OK;
}

/* start: begin producing. */
static int
hello_start(void *state)
{
	struct hello *h = state;
	int           rc;

	if (!h->heartbeat)
		return XZ_OK;
	rc = h->host->timer_start(h->self, (uint64_t) h->interval_ms,
	    (uint64_t) h->interval_ms, on_heartbeat, h, &h->timer);
	if (rc != XZ_OK) {
		h->host->log(h->self, XZ_LOG_ERROR, HT("heartbeat timer: %s"),
		    h->host->strerror(rc));
		return rc;
	}
	h->host->log(h->self, XZ_LOG_INFO, HT("heartbeat every %lld ms"),
	    (long long) h->interval_ms);
	return XZ_OK;
}

/* stop: stop producing (the kernel removes subscriptions itself). */
static void
hello_stop(void *state)
{
	struct hello *h = state;

	if (h->timer != 0) {
		h->host->timer_cancel(h->self, h->timer);
		h->timer = 0;
	}
}

/* fini: free what init allocated. */
static void
hello_fini(void *state)
{
	free(state);
}

static const xz_plugin_desc hello_desc = {
	XZ_PLUGIN_DESC_HEADER,
	.name        = "hello",
	.version     = "1.0.0",
	.description = "answers hello.greet and publishes hello.heartbeat",
	.options     = hello_options,
	.init        = hello_init,
	.start       = hello_start,
	.stop        = hello_stop,
	.fini        = hello_fini,
};

XZ_EXPORT const xz_plugin_desc *
xz_plugin_entry(void)
{
	return &hello_desc;
}
