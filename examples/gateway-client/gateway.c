/*
 * gateway.c - a sensor gateway: a program outside the node that turns the
 * line protocol of perimeter and cell sensors into prison alarms, built
 * against the installed client library only (<xiezhi/client.h>).
 *
 * Standard input, one command a line:
 *
 *   ALARM <location> <level 1-3> <kind> [description...]
 *         raise an alarm: request prison.alarm.raise, print the reply
 *   EVENT <topic> <json>
 *         publish an event as it is (a reading, a heartbeat)
 *   # comment, or an empty line
 *
 * With -w it also subscribes to prison.alarm.raised and, once the input is
 * over, waits until the command center has published every alarm raised
 * here (printing each), so a script knows the alarms are on the bus.
 *
 * Exit: 0 when every line was accepted, 1 when one was not (a malformed
 * line, an error reply, a refused event, an alarm never seen) or the node
 * went away, 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L /* getline, strtok_r, clock_gettime */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <xiezhi/client.h>

#define MAX_ALARMS 1024

typedef struct gateway {
	xzc_client *c;
	const char *name, *agency;
	int         timeout_ms;
	/* Alarms raised here and whether prison.alarm.raised was seen. */
	char     raised[MAX_ALARMS][32];
	int      seen[MAX_ALARMS];
	size_t   nraised;
	int      failed;
	unsigned lineno;
} gateway;

static const char usage[]
    = "usage: gateway-client -u URL [-n NAME] [-a AGENCY] [-t MS] [-w]\n"
      "Reads sensor lines from stdin:\n"
      "  ALARM <location> <level 1-3> <kind> [description...]\n"
      "  EVENT <topic> <json>\n"
      "  -u URL     the node: its control socket or a bus.listen address\n"
      "  -n NAME    client name and actor user (default gateway)\n"
      "  -a AGENCY  the actor's agency (default prison-01)\n"
      "  -t MS      request deadline (default 5000)\n"
      "  -w         then wait until the node published every alarm "
      "raised here\n";

/* An alarm raised here was published by the command center. */
static void
on_raised(void *ud, const xzc_msg *m)
{
	gateway    *g  = ud;
	json_t     *ev = json_loadb(m->data, m->len, 0, NULL);
	const char *id = json_string_value(json_object_get(ev, "id"));

	for (size_t i = 0; id != NULL && i < g->nraised; i++)
		if (!g->seen[i] && strcmp(g->raised[i], id) == 0) {
			g->seen[i] = 1;
			printf("seen %s on %s\n", id, m->topic);
			fflush(stdout);
		}
	json_decref(ev);
}

static void
line_error(gateway *g, const char *fmt, const char *arg)
{
	fprintf(stderr, "gateway-client: line %u: ", g->lineno);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	g->failed = 1;
}

/* ALARM <location> <level> <kind> [description...] */
static int
alarm_line(gateway *g, char *args)
{
	char          *save  = NULL, *end;
	char          *loc   = strtok_r(args, " \t", &save);
	char          *level = strtok_r(NULL, " \t", &save);
	char          *kind  = strtok_r(NULL, " \t", &save);
	char          *desc  = strtok_r(NULL, "", &save);
	const xzc_msg *r;
	long           lv;
	int            rc;

	if (kind == NULL) {
		line_error(g, "%s", "ALARM needs <location> <level> <kind>");
		return 0;
	}
	errno = 0;
	lv    = strtol(level, &end, 10);
	if (errno || *end || lv < 1 || lv > 3) {
		line_error(g, "level must be 1, 2 or 3, got '%s'", level);
		return 0;
	}
	json_t *req
	    = json_pack("{s:{s:s,s:s,s:s},s:s,s:i,s:s,s:s}", "actor", "user",
	        g->name, "role", "sensor", "agency", g->agency, "kind",
	        kind, "level", (int) lv, "location", loc, "source", "sensor");
	if (desc != NULL)
		json_object_set_new(req, "description", json_string(desc));
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (body == NULL) {
		line_error(g, "%s", "out of memory");
		return -1;
	}
	rc = xzc_request(
	    g->c, "prison.alarm.raise", body, strlen(body), g->timeout_ms, &r);
	free(body);
	if (rc != XZ_OK) { /* no reply at all: the node is not there */
		fprintf(stderr, "gateway-client: %s\n", xzc_errmsg(g->c));
		return -1;
	}
	printf("%s\n", (const char *) r->data);
	fflush(stdout);
	if (xzc_msg_error(r) != XZ_OK) {
		line_error(g, "prison.alarm.raise refused: %s", r->data);
		return 0;
	}
	json_t     *rec = json_loadb(r->data, r->len, 0, NULL);
	const char *id  = json_string_value(json_object_get(rec, "id"));
	if (id != NULL && g->nraised < MAX_ALARMS)
		snprintf(
		    g->raised[g->nraised++], sizeof(g->raised[0]), "%s", id);
	json_decref(rec);
	return 0;
}

/* EVENT <topic> <json> */
static int
event_line(gateway *g, char *args)
{
	char        *save  = NULL;
	char        *topic = strtok_r(args, " \t", &save);
	char        *json  = strtok_r(NULL, "", &save);
	json_error_t je;
	json_t      *v;

	if (json == NULL) {
		line_error(g, "%s", "EVENT needs <topic> <json>");
		return 0;
	}
	if ((v = json_loads(json, JSON_DECODE_ANY, &je)) == NULL) {
		line_error(g, "the payload is not JSON: %s", je.text);
		return 0;
	}
	json_decref(v);
	switch (xzc_publish(g->c, topic, json, strlen(json))) {
	case XZ_OK:
		return 0;
	case XZ_EINVAL:
		line_error(g, "%s", xzc_errmsg(g->c));
		return 0;
	default:
		fprintf(stderr, "gateway-client: %s\n", xzc_errmsg(g->c));
		return -1;
	}
}

static long long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Dispatch until every alarm raised here was seen, or the deadline. */
static void
wait_seen(gateway *g)
{
	long long end = now_ms() + g->timeout_ms;

	for (long long left; (left = end - now_ms()) > 0;) {
		size_t missing = 0;
		for (size_t i = 0; i < g->nraised; i++)
			missing += !g->seen[i];
		if (missing == 0)
			return;
		int rc = xzc_dispatch(g->c, (int) left);
		if (rc != XZ_OK && rc != XZ_ETIMEDOUT)
			break;
	}
	for (size_t i = 0; i < g->nraised; i++)
		if (!g->seen[i]) {
			fprintf(stderr,
			    "gateway-client: %s was never published on "
			    "prison.alarm.raised\n",
			    g->raised[i]);
			g->failed = 1;
		}
}

int
main(int argc, char **argv)
{
	static gateway g
	    = { .name = "gateway", .agency = "prison-01", .timeout_ms = 5000 };
	xzc_options o   = XZC_OPTIONS_INIT;
	const char *url = NULL;
	char        err[XZC_ERRMSG_MAX], *line = NULL;
	size_t      cap = 0;
	ssize_t     n;
	int         ch, watch = 0, rc = 0;

	while ((ch = getopt(argc, argv, "u:n:a:t:wh")) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 'n':
			g.name = optarg;
			break;
		case 'a':
			g.agency = optarg;
			break;
		case 't':
			g.timeout_ms = atoi(optarg);
			break;
		case 'w':
			watch = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (url == NULL || optind != argc || g.timeout_ms <= 0) {
		fputs(usage, stderr);
		return 2;
	}
	o.name = g.name;
	if (xzc_open(&g.c, url, &o, err, sizeof(err)) != XZ_OK) {
		fprintf(stderr, "gateway-client: %s\n", err);
		return 1;
	}
	/* In place once the flush is confirmed: no raised event is missed. */
	if (watch
	    && (xzc_subscribe(
	            g.c, "prison.alarm.raised", NULL, on_raised, &g, NULL)
	            != XZ_OK
	        || xzc_flush(g.c, g.timeout_ms) != XZ_OK)) {
		fprintf(stderr, "gateway-client: %s\n", xzc_errmsg(g.c));
		xzc_close(g.c);
		return 1;
	}
	while (rc == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
		g.lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		char *cmd = line + strspn(line, " \t");
		if (*cmd == '\0' || *cmd == '#')
			continue;
		if (strncmp(cmd, "ALARM ", 6) == 0)
			rc = alarm_line(&g, cmd + 6);
		else if (strncmp(cmd, "EVENT ", 6) == 0)
			rc = event_line(&g, cmd + 6);
		else
			line_error(&g, "unknown command '%.40s'", cmd);
		if (rc == 0 && watch) /* print what has come meanwhile */
			xzc_dispatch(g.c, 0);
	}
	free(line);
	/* The events must have reached the bus (or been refused). */
	if (rc == 0 && xzc_flush(g.c, g.timeout_ms) != XZ_OK) {
		fprintf(stderr, "gateway-client: %s\n", xzc_errmsg(g.c));
		g.failed = 1;
	}
	if (rc == 0 && watch)
		wait_seen(&g);
	xzc_close(g.c);
	return rc != 0 || g.failed ? 1 : 0;
}
