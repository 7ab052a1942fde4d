/*
 * demo.h - a traffic source for the default deployment: sensor alarms
 * raised and worked through by "operators", roll calls (now and then with
 * a discrepancy), and AI+AR assessment results, at events_per_s. It only
 * uses the bus: requests to prison.* and events on rehab.assessment.scored.
 * It learns the prison's cells and the residents from prison.prisoner.list
 * and rehab.resident.list (the prison and rehab plugins seed themselves
 * with seed_demo_data = true).
 */
#ifndef XZ_DEMO_H
#define XZ_DEMO_H

#include <stdint.h>

#include <xiezhi/xiezhi.h>

#define DEMO_MAX_PLACES 256
#define DEMO_MAX_RESIDENTS 256
#define DEMO_MAX_ALARMS 64

typedef struct demo_place {
	char path[64]; /* a landing, e.g. P1.A.1.2 */
	int  prisoners;
} demo_place;

typedef struct demo_alarm {
	char id[40];
	int  stage; /* index into the operator's next actions */
} demo_alarm;

/* A request in flight (a fixed pool: nothing leaks at shutdown). */
typedef struct demo_job {
	struct demo *d;
	int          used;
	int          type;
	int          place; /* index into places */
	int          discrepancy;
	char         id[40];
} demo_job;

#define DEMO_MAX_JOBS 128
#define DEMO_MAX_RECOUNTS 16

typedef struct demo {
	xz_plugin     *self;
	const xz_host *host;
	int64_t        rate; /* events per second */
	int64_t        discrepancy_pc; /* roll calls with a discrepancy */
	uint64_t       rng;
	uint64_t       timer;
	int            loading; /* list requests in flight */
	uint64_t       ticks;
	demo_place     places[DEMO_MAX_PLACES];
	int            nplaces;
	struct {
		char id[32];
		char phase[40];
	} residents[DEMO_MAX_RESIDENTS];
	int        nresidents;
	demo_alarm alarms[DEMO_MAX_ALARMS];
	int        nalarms;
	demo_job   jobs[DEMO_MAX_JOBS];
	struct {
		char id[40];
		int  place;
	} recounts[DEMO_MAX_RECOUNTS]; /* roll calls awaiting a recount */
	int nrecounts;
} demo;

/* traffic.c */
uint32_t demo_rand(demo *d, uint32_t n); /* 0..n-1 */
void     demo_load(demo *d); /* ask for places and residents */
void     demo_tick(demo *d); /* one unit of traffic */

#endif
