/*
 * test_bus.c - bus semantics on a real kernel started in-process from a
 * config file in a temp folder, with test actors (ktest.h): wildcards,
 * queue groups, request/reply deadlines, no responders, first reply wins,
 * backpressure and best-effort drops, unsubscribe, shared fan-out.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "ktest.h"

#define H xz_kernel_host()
#define MAXREC 4096

/* What one test actor saw. Handlers of one actor never run at once, but
 * the test thread reads concurrently: everything is under mu. */
typedef struct rec {
	pthread_mutex_t mu;
	xz_plugin      *self;
	long            n; /* events recorded (not kt.sync) */
	atomic_long     syncs; /* kt.sync events seen */
	atomic_long     requests; /* requests handled */
	char            topics[64][64];
	int             ns[MAXREC];
	const void     *data[MAXREC];
	uint8_t         ids[MAXREC][16];
	/* request behaviour */
	int           reply; /* 1: reply with its name */
	int           reply_rc; /* what host->reply returned */
	const xz_msg *kept; /* retained request (reply later) */
	uint8_t       req_id[16]; /* id of the last request */
	/* a gate that blocks the handler until opened */
	atomic_int *gate;
} rec;

static void
rec_init(rec *r, xz_plugin *self)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->self = self;
}

static long
rec_count(rec *r)
{
	pthread_mutex_lock(&r->mu);
	long n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void
on_rec(void *ud, const xz_msg *m)
{
	rec *r = ud;

	if (strcmp(m->topic, "kt.sync") == 0) {
		atomic_fetch_add(&r->syncs, 1);
		return;
	}
	if (r->gate != NULL)
		while (!atomic_load(r->gate))
			kt_sleep_ms(1);
	if (m->kind == XZ_KIND_REQUEST) {
		int rc = XZ_OK;
		pthread_mutex_lock(&r->mu);
		memcpy(r->req_id, m->id, 16);
		pthread_mutex_unlock(&r->mu);
		if (r->reply == 1) {
			const char *name = H->name(r->self);
			char        buf[128];
			snprintf(buf, sizeof(buf), "{\"from\":\"%s\"}", name);
			rc = H->reply(r->self, m, buf, strlen(buf));
		} else if (r->reply == 2) {
			r->kept = H->msg_retain(r->self, m);
		}
		pthread_mutex_lock(&r->mu);
		r->reply_rc = rc;
		pthread_mutex_unlock(&r->mu);
		atomic_fetch_add(&r->requests, 1);
		return;
	}
	pthread_mutex_lock(&r->mu);
	if (r->n < 64)
		snprintf(
		    r->topics[r->n], sizeof(r->topics[0]), "%s", m->topic);
	if (r->n < MAXREC) {
		const char *p = strstr(m->data, "\"n\":");
		r->ns[r->n]   = p ? atoi(p + 4) : -1;
		r->data[r->n] = m->data;
		memcpy(r->ids[r->n], m->id, 16);
	}
	r->n++;
	pthread_mutex_unlock(&r->mu);
}

/* Every actor of a test, for kt_sync. */
typedef struct world {
	kt_node    node;
	rec       *recs[16];
	int        nrecs;
	xz_plugin *pub; /* publisher actor */
} world;

static rec *
world_actor(world *w, const char *name)
{
	rec       *r = calloc(1, sizeof(*r));
	xz_plugin *p = kt_add_actor(&w->node, name);

	assert_non_null(r);
	assert_non_null(p);
	rec_init(r, p);
	w->recs[w->nrecs++] = r;
	return r;
}

/* Subscribe r to pattern (and to kt.sync, once). */
static uint64_t
world_sub(rec *r, const char *pattern, const char *group)
{
	uint64_t id = 0;
	assert_int_equal(
	    H->subscribe(r->self, pattern, group, on_rec, r, &id), XZ_OK);
	return id;
}

static void
world_open(world *w, const char *bus)
{
	memset(w, 0, sizeof(*w));
	if (kt_open(&w->node, NULL, bus) != 0) {
		kt_print_diag(&w->node);
		fail_msg("node config refused");
	}
	w->pub = kt_add_actor(&w->node, "pub");
	assert_non_null(w->pub);
}

static void
world_start(world *w)
{
	assert_int_equal(kt_start(&w->node), XZ_OK);
	for (int i = 0; i < w->nrecs; i++)
		assert_int_equal(H->subscribe(w->recs[i]->self, "kt.sync",
		                     NULL, on_rec, w->recs[i], NULL),
		    XZ_OK);
}

/* Publish kt.sync and wait until every actor saw it: everything published
 * before it by the same publisher has then been handled. */
static void
world_sync(world *w)
{
	long want[16];
	for (int i = 0; i < w->nrecs; i++)
		want[i] = atomic_load(&w->recs[i]->syncs) + 1;
	assert_int_equal(H->publish(w->pub, "kt.sync", "{}", 2), XZ_OK);
	/* (an actor subscribed to ">" sees kt.sync twice) */
	for (int i = 0; i < w->nrecs; i++)
		if (kt_wait_count(&w->recs[i]->syncs, want[i], 10000)
		    < want[i])
			fail_msg("actor %d did not see kt.sync", i);
}

static void
world_close(world *w)
{
	for (int i = 0; i < w->nrecs; i++) {
		if (w->recs[i]->kept != NULL)
			H->msg_release(w->recs[i]->self, w->recs[i]->kept);
	}
	kt_destroy(&w->node);
	for (int i = 0; i < w->nrecs; i++) {
		pthread_mutex_destroy(&w->recs[i]->mu);
		free(w->recs[i]);
	}
}

static void
pub(world *w, const char *topic, int n)
{
	char buf[64];
	int  len = snprintf(buf, sizeof(buf), "{\"n\":%d}", n);
	assert_int_equal(H->publish(w->pub, topic, buf, (size_t) len), XZ_OK);
}

static void
test_wildcards(void **state)
{
	world w;
	(void) state;

	world_open(&w, "");
	rec *one   = world_actor(&w, "one"); /* prison.*.raised */
	rec *rest  = world_actor(&w, "rest"); /* prison.> */
	rec *mid   = world_actor(&w, "mid"); /* *.alarm.* */
	rec *exact = world_actor(&w, "exact"); /* prison.alarm.raised */
	rec *all   = world_actor(&w, "all"); /* > */
	world_start(&w);
	world_sub(one, "prison.*.raised", NULL);
	world_sub(rest, "prison.>", NULL);
	world_sub(mid, "*.alarm.*", NULL);
	world_sub(exact, "prison.alarm.raised", NULL);
	world_sub(all, ">", NULL);
	const char *topics[] = { "prison.alarm.raised", "prison.alarm",
		"prison.roll.raised", "rehab.alarm.cleared",
		"prison.alarm.raised.extra", "prison", "legal.x" };
	for (int i = 0; i < 7; i++)
		pub(&w, topics[i], i);
	world_sync(&w);
	assert_int_equal(rec_count(one), 2);
	assert_string_equal(one->topics[0], "prison.alarm.raised");
	assert_string_equal(one->topics[1], "prison.roll.raised");
	assert_int_equal(rec_count(rest), 4);
	assert_string_equal(rest->topics[0], "prison.alarm.raised");
	assert_string_equal(rest->topics[1], "prison.alarm");
	assert_string_equal(rest->topics[2], "prison.roll.raised");
	assert_string_equal(rest->topics[3], "prison.alarm.raised.extra");
	assert_int_equal(rec_count(mid), 2);
	assert_string_equal(mid->topics[0], "prison.alarm.raised");
	assert_string_equal(mid->topics[1], "rehab.alarm.cleared");
	assert_int_equal(rec_count(exact), 1);
	assert_int_equal(rec_count(all), 7);
	for (int i = 0; i < 7; i++) {
		assert_string_equal(all->topics[i], topics[i]);
		assert_int_equal(all->ns[i], i);
	}
	/* Wildcards are for patterns only; bad patterns are refused. */
	assert_int_equal(H->publish(w.pub, "prison.*", "{}", 2), XZ_EINVAL);
	assert_int_equal(H->publish(w.pub, "prison.>", "{}", 2), XZ_EINVAL);
	assert_int_equal(
	    H->subscribe(one->self, "a.>.b", NULL, on_rec, one, NULL),
	    XZ_EINVAL);
	assert_int_equal(
	    H->subscribe(one->self, "a..b", NULL, on_rec, one, NULL),
	    XZ_EINVAL);
	world_close(&w);
}

static void
test_queue_groups(void **state)
{
	world w;
	rec  *m[3];
	int   seen[301] = { 0 };
	(void) state;

	world_open(&w, "");
	m[0]       = world_actor(&w, "w0");
	m[1]       = world_actor(&w, "w1");
	m[2]       = world_actor(&w, "w2");
	rec *plain = world_actor(&w, "audit");
	world_start(&w);
	for (int i = 0; i < 3; i++)
		world_sub(m[i], "jobs.*", "workers");
	world_sub(plain, "jobs.>", NULL);
	for (int i = 1; i <= 300; i++)
		pub(&w, "jobs.new", i);
	world_sync(&w);
	/* The plain subscriber gets everything; the group shares it. */
	assert_int_equal(rec_count(plain), 300);
	long total = 0;
	for (int i = 0; i < 3; i++) {
		long c = rec_count(m[i]);
		if (c < 50 || c > 150)
			fail_msg(
			    "member w%d got %ld of 300: not spread", i, c);
		total += c;
		for (long j = 0; j < c; j++)
			seen[m[i]->ns[j]]++;
	}
	assert_int_equal(total, 300);
	for (int i = 1; i <= 300; i++)
		if (seen[i] != 1)
			fail_msg(
			    "event %d reached %d group members", i, seen[i]);
	world_close(&w);
}

/* A requester's completion. */
typedef struct done {
	atomic_long calls;
	int         status;
	uint16_t    flags;
	uint8_t     corr[16];
	char        source[64];
	char        text[16384];
	long        at_ms;
} done;

static void
on_done(void *ud, int status, const xz_msg *reply)
{
	done *d   = ud;
	d->status = status;
	d->flags  = reply->flags;
	memcpy(d->corr, reply->corr, 16);
	snprintf(d->source, sizeof(d->source), "%s", reply->source);
	snprintf(d->text, sizeof(d->text), "%.*s", (int) reply->len,
	    (const char *) reply->data);
	d->at_ms = kt_mono_ms();
	atomic_fetch_add(&d->calls, 1);
}

static void
test_request_deadline(void **state)
{
	world w;
	done  d = { 0 };
	(void) state;

	world_open(&w, "");
	rec *silent = world_actor(&w, "silent");
	world_start(&w);
	silent->reply = 2; /* keeps the request, replies only when told */
	world_sub(silent, "svc.silent", NULL);
	long t0 = kt_mono_ms();
	assert_int_equal(
	    H->request(w.pub, "svc.silent", "{}", 2, 150, on_done, &d), XZ_OK);
	assert_int_equal(kt_wait_count(&d.calls, 1, 5000), 1);
	long took = d.at_ms - t0;
	if (took < 140 || took > 2000)
		fail_msg("timeout after %ld ms, deadline 150 ms", took);
	assert_int_equal(d.status, XZ_ETIMEDOUT);
	assert_true(d.flags & XZ_MSG_ERROR);
	assert_string_equal(d.text,
	    "{\"error\":{\"code\":\"timeout\",\"message\":\"no reply to "
	    "'svc.silent' within 150 ms\"}}");
	/* A reply after the deadline is refused and changes nothing. */
	assert_int_equal(kt_wait_count(&silent->requests, 1, 1000), 1);
	assert_int_equal(
	    H->reply(silent->self, silent->kept, "{}", 2), XZ_ENOENT);
	kt_sleep_ms(200);
	assert_int_equal(atomic_load(&d.calls), 1);
	world_close(&w);
}

static void
test_no_responders(void **state)
{
	world w;
	done  d = { 0 };
	(void) state;

	world_open(&w, "");
	rec *ev = world_actor(&w, "ev");
	world_start(&w);
	world_sub(ev, "svc.events", NULL);
	long t0 = kt_mono_ms();
	assert_int_equal(
	    H->request(w.pub, "svc.nobody", "{}", 2, 5000, on_done, &d),
	    XZ_ENORESPONDERS);
	assert_true(kt_mono_ms() - t0 < 100);
	/* A bad topic is refused at once too. */
	assert_int_equal(
	    H->request(w.pub, "svc.*", "{}", 2, 5000, on_done, &d), XZ_EINVAL);
	kt_sleep_ms(100);
	assert_int_equal(atomic_load(&d.calls), 0); /* never called */
	world_close(&w);
}

static void
test_first_reply_wins(void **state)
{
	world w;
	done  d = { 0 };
	(void) state;

	world_open(&w, "");
	rec *a = world_actor(&w, "resp-a");
	rec *b = world_actor(&w, "resp-b");
	world_start(&w);
	a->reply = b->reply = 1;
	world_sub(a, "svc.echo", NULL);
	world_sub(b, "svc.echo", NULL);
	assert_int_equal(
	    H->request(w.pub, "svc.echo", "{}", 2, 2000, on_done, &d), XZ_OK);
	assert_int_equal(kt_wait_count(&a->requests, 1, 5000), 1);
	assert_int_equal(kt_wait_count(&b->requests, 1, 5000), 1);
	assert_int_equal(kt_wait_count(&d.calls, 1, 5000), 1);
	kt_sleep_ms(50);
	assert_int_equal(atomic_load(&d.calls), 1);
	assert_int_equal(d.status, XZ_OK);
	assert_false(d.flags & XZ_MSG_ERROR);
	/* Exactly one reply was taken: the winner's. */
	pthread_mutex_lock(&a->mu);
	pthread_mutex_lock(&b->mu);
	int ra = a->reply_rc, rb = b->reply_rc;
	assert_memory_equal(a->req_id, b->req_id, 16);
	assert_memory_equal(d.corr, a->req_id, 16);
	pthread_mutex_unlock(&b->mu);
	pthread_mutex_unlock(&a->mu);
	if (ra == XZ_OK) {
		assert_int_equal(rb, XZ_ENOENT);
		assert_string_equal(d.text, "{\"from\":\"resp-a\"}");
		assert_string_equal(d.source, "resp-a");
	} else {
		assert_int_equal(ra, XZ_ENOENT);
		assert_int_equal(rb, XZ_OK);
		assert_string_equal(d.text, "{\"from\":\"resp-b\"}");
		assert_string_equal(d.source, "resp-b");
	}
	world_close(&w);
}

/* The node's status document (xz.sys.status), parsed. */
static json_t *
status_of(world *w)
{
	done d = { 0 };
	assert_int_equal(
	    H->request(w->pub, "xz.sys.status", "{}", 2, 5000, on_done, &d),
	    XZ_OK);
	assert_int_equal(kt_wait_count(&d.calls, 1, 6000), 1);
	assert_int_equal(d.status, XZ_OK);
	json_error_t e;
	json_t      *v = json_loads(d.text, 0, &e);
	if (v == NULL)
		fail_msg("status is not JSON: %s", e.text);
	return v;
}

static long
json_num(json_t *root, const char *path1, const char *plugin, const char *key)
{
	if (plugin == NULL)
		return (long) json_integer_value(
		    json_object_get(json_object_get(root, path1), key));
	size_t  i;
	json_t *p;
	json_array_foreach(json_object_get(root, "plugins"), i, p)
	{
		if (strcmp(
		        json_string_value(json_object_get(p, "name")), plugin)
		    == 0)
			return (long) json_integer_value(
			    json_object_get(p, key));
	}
	return -1;
}

typedef struct opener {
	atomic_int *gate;
	long        after_ms;
} opener;

static void *
open_later(void *arg)
{
	opener *o = arg;
	kt_sleep_ms(o->after_ms);
	atomic_store(o->gate, 1);
	return NULL;
}

static void
test_backpressure_business(void **state)
{
	world      w;
	atomic_int gate = 0;
	long       ok   = 0;
	(void) state;

	world_open(&w,
	    "bus = { mailbox_capacity = 4; publish_timeout_ms = "
	    "1000; };\n");
	rec *slow = world_actor(&w, "slow");
	world_start(&w);
	world_sub(slow, "biz.>", NULL);
	slow->gate = &gate;
	/* Fill the mailbox: publishes succeed until one waits 1 s and
	 * times out (1 s: a loaded machine must not make the test flaky). */
	for (int i = 1; i <= 100; i++) {
		long t0 = kt_mono_ms();
		int  rc = H->publish(w.pub, "biz.case", "{}", 2);
		long dt = kt_mono_ms() - t0;
		if (rc == XZ_OK) {
			ok++;
			continue;
		}
		assert_int_equal(rc, XZ_ETIMEDOUT);
		if (dt < 990)
			fail_msg("publisher waited %ld ms, not 1000", dt);
		break;
	}
	if (ok < 4 || ok >= 100)
		fail_msg("%ld publishes accepted with a mailbox of 4", ok);
	/* While full, a publisher waits and gets through once there is
	 * room (the gate opens after 100 ms, inside the 1 s deadline). */
	opener    o = { &gate, 100 };
	pthread_t th;
	pthread_create(&th, NULL, open_later, &o);
	long t0 = kt_mono_ms();
	assert_int_equal(H->publish(w.pub, "biz.case", "{}", 2), XZ_OK);
	long waited = kt_mono_ms() - t0;
	pthread_join(th, NULL);
	ok++;
	if (waited < 80)
		fail_msg("publisher did not wait for room (%ld ms)", waited);
	world_sync(&w);
	/* Every accepted event arrived; the refused one is counted. */
	assert_int_equal(rec_count(slow), ok);
	json_t *st = status_of(&w);
	assert_int_equal(
	    json_num(st, "bus", NULL, "backpressure_timeouts"), 1);
	assert_int_equal(json_num(st, "bus", NULL, "dropped"), 0);
	assert_int_equal(
	    json_num(st, NULL, "slow", "backpressure_timeouts"), 1);
	assert_int_equal(json_num(st, NULL, "slow", "dropped"), 0);
	json_decref(st);
	world_close(&w);
}

static void
test_best_effort_drops_counted(void **state)
{
	world      w;
	atomic_int gate = 0;
	(void) state;

	world_open(&w,
	    "bus = { mailbox_capacity = 8; publish_timeout_ms = "
	    "5000; best_effort = [ \"tele.>\" ]; };\n");
	rec *slow = world_actor(&w, "slow");
	world_start(&w);
	world_sub(slow, "tele.>", NULL);
	slow->gate = &gate;
	long t0    = kt_mono_ms();
	for (int i = 1; i <= 1000; i++)
		pub(&w, "tele.temp", i); /* never waits, never fails */
	long took = kt_mono_ms() - t0;
	if (took > 2000)
		fail_msg("best-effort publishing waited (%ld ms)", took);
	atomic_store(&gate, 1);
	world_sync(&w);
	long    got     = rec_count(slow);
	json_t *st      = status_of(&w);
	long    dropped = json_num(st, "bus", NULL, "dropped");
	assert_int_equal(json_num(st, NULL, "slow", "dropped"), dropped);
	assert_int_equal(
	    json_num(st, "bus", NULL, "backpressure_timeouts"), 0);
	json_decref(st);
	if (dropped <= 0 || got <= 0)
		fail_msg(
		    "delivered %ld, dropped %ld: expected both", got, dropped);
	assert_int_equal(got + dropped, 1000);
	/* What arrived kept its order. */
	for (long i = 1; i < got && i < MAXREC; i++)
		assert_true(slow->ns[i] > slow->ns[i - 1]);
	world_close(&w);
}

static void
test_unsubscribe(void **state)
{
	world w;
	(void) state;

	world_open(&w, "");
	rec *r = world_actor(&w, "r");
	world_start(&w);
	uint64_t id = world_sub(r, "case.*", NULL);
	pub(&w, "case.opened", 1);
	world_sync(&w);
	assert_int_equal(rec_count(r), 1);
	assert_int_equal(H->unsubscribe(r->self, id), XZ_OK);
	pub(&w, "case.opened", 2);
	pub(&w, "case.closed", 3);
	world_sync(&w);
	assert_int_equal(rec_count(r), 1);
	assert_int_equal(H->unsubscribe(r->self, id), XZ_ENOENT);
	world_close(&w);
}

static void
test_fanout_shares_one_message(void **state)
{
	world w;
	rec  *r[4];
	char  name[8];
	(void) state;

	world_open(&w, "");
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		r[i] = world_actor(&w, name);
	}
	world_start(&w);
	for (int i = 0; i < 4; i++)
		world_sub(r[i], i % 2 ? "fan.>" : "fan.out", NULL);
	pub(&w, "fan.out", 7);
	world_sync(&w);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rec_count(r[i]), 1);
		assert_int_equal(r[i]->ns[0], 7);
		/* the same bytes and the same id: one copy, shared */
		assert_ptr_equal(r[i]->data[0], r[0]->data[0]);
		assert_memory_equal(r[i]->ids[0], r[0]->ids[0], 16);
	}
	world_close(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_queue_groups),
		cmocka_unit_test(test_request_deadline),
		cmocka_unit_test(test_no_responders),
		cmocka_unit_test(test_first_reply_wins),
		cmocka_unit_test(test_backpressure_business),
		cmocka_unit_test(test_best_effort_drops_counted),
		cmocka_unit_test(test_unsubscribe),
		cmocka_unit_test(test_fanout_shares_one_message),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	nng_fini(); /* leak checkers: free nng's global state */
	return failed;
}
