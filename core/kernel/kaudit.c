/*
 * kaudit.c - the kernel's own audit records of state changes, durable
 * before the change is made (docs/audit.md, "The kernel's records").
 *
 * A record (identity changes, console chunks, configuration and plugin
 * reloads) is a line "ID<TAB>TOPIC<TAB>JSON" appended to
 * <data_dir>/kernel-audit.spool (mode 0600) and fdatasync'ed before the
 * caller goes on; a record that cannot be written refuses the change. The
 * built-in sys actor drains the spool in order into the audit plugin's
 * audit.append (each record under its id: one sent twice is kept once)
 * and forgets the acknowledged ones; the file is emptied once every
 * record in it is acknowledged. Logins and refusals stay events
 * (best-effort); one that could not be published is counted as lost.
 */
#include "kernel/kernel_priv.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct krec {
	struct krec *next;
	char        *id, *topic, *data; /* owned */
} krec;

struct xz_kaudit {
	pthread_mutex_t mu;
	int             fd; /* the spool file, O_APPEND */
	char           *path; /* owned */
	krec           *head, *tail; /* unacknowledged, oldest first (owned) */
	size_t          n;
	size_t          inflight; /* sent in the pending audit.append */
	uint64_t        written, acked, refused;
	/* After a failed append (an error reply, a timeout, no audit plugin
	 * to ask): no new one before retry_us (monotonic), the wait doubling
	 * from 1 s to 10 s; failing counts the failures in a row (logged at
	 * the first, and when the drain works again). */
	uint64_t         retry_us, backoff_ms;
	uint64_t         failing;
	_Atomic uint64_t lost;
};

static void
krec_free(krec *r)
{
	if (r != NULL) {
		free(r->id);
		free(r->topic);
		free(r->data);
		free(r);
	}
}

static krec *
krec_new(const char *id, size_t idn, const char *topic, size_t tn,
    const char *data, size_t dn)
{
	krec *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->id = strndup(id, idn)) == NULL
	    || (r->topic = strndup(topic, tn)) == NULL
	    || (r->data = strndup(data, dn)) == NULL) {
		krec_free(r);
		return NULL;
	}
	return r;
}

static void
push(struct xz_kaudit *a, krec *r)
{
	if (a->tail != NULL)
		a->tail->next = r;
	else
		a->head = r;
	a->tail = r;
	a->n++;
}

/* Read the records a previous run left (not acknowledged, or
 * acknowledged but not yet forgotten: the audit plugin keeps them once).
 * A torn last line (a crash in the middle of a write) is cut off. */
static int
load(struct xz_kaudit *a, xz_diag *d)
{
	FILE   *f    = fopen(a->path, "r");
	char   *line = NULL;
	size_t  cap = 0, good = 0, lineno = 0;
	ssize_t len;

	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		char *t1 = memchr(line, '\t', (size_t) len);
		char *t2 = t1
		    ? memchr(t1 + 1, '\t', (size_t) (len - (t1 + 1 - line)))
		    : NULL;
		if (line[len - 1] != '\n') {
			xz_diag_add(d, a->path, (int) lineno,
			    "WARN a torn record at the end of the kernel's "
			    "audit spool is cut off (a crash while it was "
			    "written: its change was not made)");
			break;
		}
		if (t1 == NULL || t2 == NULL) {
			/* A whole line that is no record (the file was
			 * edited): skipped; the records after it are still
			 * sent. */
			xz_diag_add(d, a->path, (int) lineno,
			    "WARN not a record (id, topic and data separated "
			    "by tabs): skipped");
			good += (size_t) len;
			continue;
		}
		krec *r = krec_new(line, (size_t) (t1 - line), t1 + 1,
		    (size_t) (t2 - t1 - 1), t2 + 1,
		    (size_t) (len - (t2 + 1 - line) - 1));
		if (r == NULL) {
			free(line);
			fclose(f);
			return -1;
		}
		push(a, r);
		good += (size_t) len;
	}
	free(line);
	fclose(f);
	if (truncate(a->path, (off_t) good) != 0 && errno != ENOENT)
		return -1;
	return 0;
}

int
xz_kaudit_open(xz_kernel *k, xz_diag *d)
{
	const xz_config  *c = k->cfg;
	struct xz_kaudit *a;
	char              path[4200];

	if (c->data_dir == NULL || k->kaudit != NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/kernel-audit.spool", c->data_dir);
	if ((a = calloc(1, sizeof(*a))) == NULL
	    || (a->path = strdup(path)) == NULL) {
		free(a);
		xz_diag_add(d, NULL, 0, "out of memory");
		return 1;
	}
	pthread_mutex_init(&a->mu, NULL);
	a->fd = -1;
	if (load(a, d) != 0
	    || (a->fd = open(
	            path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600))
	        < 0) {
		xz_diag_add(d, path, 0,
		    "cannot open the kernel's audit spool: %s",
		    strerror(errno));
		k->kaudit = a;
		xz_kaudit_close(k);
		return 1;
	}
	k->kaudit = a;
	if (a->n > 0)
		xz_log(XZ_LOG_INFO, "kernel",
		    "%zu kernel audit record(s) from the last run still to "
		    "hand to the audit plugin (%s)",
		    a->n, path);
	return 0;
}

void
xz_kaudit_close(xz_kernel *k)
{
	struct xz_kaudit *a = k->kaudit;

	if (a == NULL)
		return;
	if (a->fd >= 0)
		close(a->fd);
	while (a->head != NULL) {
		krec *r = a->head;
		a->head = r->next;
		krec_free(r);
	}
	pthread_mutex_destroy(&a->mu);
	free(a->path);
	free(a);
	k->kaudit = NULL;
}

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t) w;
	}
	return 0;
}

/* The record as an event for observers (best effort): the same message
 * id as its spool id, so the audit plugin, which may see both, keeps it
 * once. */
static void
observe(xz_kernel *k, xz_kmsg *m)
{
	if (xz_bus_route(k->bus, m, NULL) != XZ_OK)
		(void) 0; /* the spool has it */
}

int
xz_kaudit_write(xz_kernel *k, const char *topic, const char *json)
{
	struct xz_kaudit *a = k->kaudit;
	char              id[40];
	int               rc = XZ_OK;

	if (a == NULL) /* no data folder: an event, as before */
		return xz_kernel_publish(k, "sys", topic, json, strlen(json));
	xz_kmsg *m = xz_bus_msg(k->bus, XZ_KIND_EVENT, topic, strlen(topic),
	    "sys", json, strlen(json));
	if (m == NULL) {
		pthread_mutex_lock(&a->mu);
		a->refused++;
		pthread_mutex_unlock(&a->mu);
		return XZ_ENOMEM;
	}
	m->pub.content_type = XZ_CT_JSON;
	m->who              = xz_principal_ref(k->who);
	for (size_t i = 0; i < sizeof(m->pub.id); i++)
		snprintf(id + 2 * i, 3, "%02x", m->pub.id[i]);
	size_t n    = strlen(id) + strlen(topic) + strlen(json) + 3;
	char  *line = malloc(n + 1);
	krec  *r    = krec_new(
	        id, strlen(id), topic, strlen(topic), json, strlen(json));
	if (line == NULL || r == NULL) {
		free(line);
		krec_free(r);
		xz_kmsg_unref(m);
		pthread_mutex_lock(&a->mu);
		a->refused++;
		pthread_mutex_unlock(&a->mu);
		return XZ_ENOMEM;
	}
	snprintf(line, n + 1, "%s\t%s\t%s\n", id, topic, json);
	pthread_mutex_lock(&a->mu);
	off_t at = lseek(a->fd, 0, SEEK_END);
	errno    = 0;
	if (getenv("XZ_KAUDIT_FAIL") != NULL /* tests: a failing disk */
	    || write_all(a->fd, line, n) != 0 || fdatasync(a->fd) != 0) {
		int e = errno;
		/* no half line stays behind */
		if (at >= 0 && ftruncate(a->fd, at) != 0)
			(void) 0;
		a->refused++;
		krec_free(r);
		xz_log(XZ_LOG_ERROR, "kernel",
		    "kernel audit record on %s not written (%s): the change "
		    "is refused",
		    topic, e ? strerror(e) : "refused");
		rc = XZ_EIO;
	} else {
		a->written++;
		push(a, r);
	}
	pthread_mutex_unlock(&a->mu);
	free(line);
	if (rc == XZ_OK)
		observe(k, m);
	xz_kmsg_unref(m);
	return rc;
}

void
xz_kaudit_lost(xz_kernel *k)
{
	if (k->kaudit != NULL)
		atomic_fetch_add(&k->kaudit->lost, 1);
}

int
xz_kaudit_event(xz_kernel *k, const char *source, const char *topic,
    const char *json, size_t len)
{
	int rc = xz_bus_publish(k->bus, source, topic, strlen(topic), json,
	    len, XZ_CT_JSON, k->who);
	if (rc != XZ_OK)
		xz_kaudit_lost(k);
	return rc;
}

json_t *
xz_kaudit_status(xz_kernel *k)
{
	struct xz_kaudit *a = k->kaudit;
	json_t           *o;

	if (a == NULL)
		return NULL;
	pthread_mutex_lock(&a->mu);
	o = json_pack("{s:I,s:I,s:I,s:I,s:I}", "spooled", (json_int_t) a->n,
	    "written", (json_int_t) a->written, "acked", (json_int_t) a->acked,
	    "refused", (json_int_t) a->refused, "lost",
	    (json_int_t) atomic_load(&a->lost));
	pthread_mutex_unlock(&a->mu);
	return o;
}

/* ---- the drain, in the sys actor ---- */

#define KAUDIT_BATCH 64

/* An append failed (mu held): wait before the next, longer each time in a
 * row, and say so once per streak. reply: the error reply, or NULL when
 * the request could not be sent. */
static void
drain_failed(struct xz_kaudit *a, const xz_msg *reply)
{
	a->backoff_ms = a->backoff_ms == 0 ? 1000
	    : a->backoff_ms >= 5000        ? 10000
	                                   : a->backoff_ms * 2;
	a->retry_us   = xz_mono_us() + a->backoff_ms * 1000u;
	if (a->failing++ > 0)
		return;
	if (reply != NULL)
		xz_log(XZ_LOG_WARN, "kernel",
		    "the kernel's audit records cannot go into the audit "
		    "plugin: %.*s; %zu kept in %s, tried again with backoff "
		    "(up to 10 s)",
		    (int) (reply->len > 300 ? 300 : reply->len),
		    (const char *) reply->data, a->n, a->path);
	else
		xz_log(XZ_LOG_WARN, "kernel",
		    "the kernel's audit records cannot go into the audit "
		    "plugin: no audit plugin takes audit.append now; %zu kept "
		    "in %s, tried again with backoff (up to 10 s)",
		    a->n, a->path);
}

static void
on_acked(void *ud, int status, const xz_msg *reply)
{
	xz_kernel        *k = ud;
	struct xz_kaudit *a = k->kaudit;
	json_t           *o = NULL;
	size_t            n = 0;

	if (a == NULL)
		return;
	if (status == XZ_OK && !(reply->flags & XZ_MSG_ERROR)
	    && (o = json_loadb(reply->data, reply->len, 0, NULL)) != NULL) {
		json_int_t v = json_integer_value(json_object_get(o, "acked"));
		n            = v > 0 ? (size_t) v : 0;
	}
	pthread_mutex_lock(&a->mu);
	if (o == NULL)
		drain_failed(a, reply);
	else if (a->failing > 0) {
		xz_log(XZ_LOG_INFO, "kernel",
		    "the kernel's audit records go into the audit plugin "
		    "again "
		    "(after %llu failed attempt(s))",
		    (unsigned long long) a->failing);
		a->failing    = 0;
		a->backoff_ms = 0;
	}
	json_decref(o);
	if (n > a->inflight)
		n = a->inflight;
	for (size_t i = 0; i < n && a->head != NULL; i++) {
		krec *r = a->head;
		a->head = r->next;
		if (a->head == NULL)
			a->tail = NULL;
		krec_free(r);
		a->n--;
		a->acked++;
	}
	a->inflight = 0;
	/* Every record in the file is in the chain: start it afresh. */
	if (a->n == 0 && a->fd >= 0 && ftruncate(a->fd, 0) != 0)
		xz_log(XZ_LOG_WARN, "kernel",
		    "cannot empty %s: %s (its records are sent again and "
		    "kept once)",
		    a->path, strerror(errno));
	pthread_mutex_unlock(&a->mu);
}

void
xz_kaudit_drain(xz_kernel *k, xz_plugin *sys, const xz_host *h)
{
	struct xz_kaudit *a = k->kaudit;
	json_t           *recs;
	char             *s;
	size_t            n = 0;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	if (a->inflight > 0 || a->head == NULL
	    || (a->retry_us != 0 && xz_mono_us() < a->retry_us)) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	recs = json_array();
	for (krec *r = a->head; r != NULL && n < KAUDIT_BATCH; r = r->next) {
		json_t *data = json_loads(r->data, 0, NULL);
		if (data == NULL) /* not JSON: kept as text */
			data
			    = json_pack("{s:s}", "malformed_payload", r->data);
		json_array_append_new(recs,
		    json_pack("{s:s,s:s,s:o}", "id", r->id, "topic", r->topic,
		        "data", data));
		n++;
	}
	a->inflight = n;
	pthread_mutex_unlock(&a->mu);
	json_t *o = json_pack("{s:o}", "records", recs);
	s         = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (s == NULL
	    || h->request(sys, "audit.append", s, strlen(s), 5000, on_acked, k)
	        != XZ_OK) {
		/* no audit plugin, or a full mailbox: later */
		pthread_mutex_lock(&a->mu);
		a->inflight = 0;
		drain_failed(a, NULL);
		pthread_mutex_unlock(&a->mu);
	}
	free(s);
}
