/*
 * demo.h - a traffic source for the default deployment that looks like a
 * prison's shifts: a handful of sensor alarms per shift, each worked
 * through by the command center (acknowledge, dispatch, arrive, handle,
 * resolve, close) a few simulated minutes a step; roll calls (清点) of
 * every sub-area at the configured times of day (now and then with a
 * discrepancy, recounted later); AI+AR assessment results for the rehab
 * residents. A speed multiplier runs simulated time faster than the
 * node's clock for demonstrations; the open alarms stay bounded at any
 * speed (never more than max_open_alarms of the demo's own, each closed
 * within a few steps). At each change of the prison's duty shifts
 * (option shifts, the prison's own) the outgoing duty officer hands the
 * shift over (prison.handover.open) and the incoming one accepts it
 * (prison.handover.accept); the 狱政科 keeps the roster (prison.roster.set)
 * two shifts ahead, three teams in turn. It only uses the bus: requests to
 * prison.* and events on rehab.assessment.scored; it learns the locations and
 * residents from prison.location.list, prison.prisoner.list and
 * rehab.resident.list.
 */
#ifndef XZ_DEMO_H
#define XZ_DEMO_H

#include <stdint.h>

#include <xiezhi/i18n.h>
#include <xiezhi/xiezhi.h>

/* The demo's log lines in 简体中文 (msg_zh.c), by LANG: DT("English"). */
extern const xz_tr demo_zh[];
#define DT(s) XZ_TR(demo_zh, s)

#define DEMO_MAX_PLACES 256
#define DEMO_MAX_RESIDENTS 256
#define DEMO_MAX_ALARMS 64
#define DEMO_MAX_TIMES 16
#define DEMO_MAX_SHIFTS 8

typedef struct demo_place {
	char path[64]; /* a location id, e.g. 5101.01.1 */
	int  prisoners; /* in the register there (sub-areas) */
	int  subarea; /* roll calls are counted per sub-area */
} demo_place;

typedef struct demo_alarm {
	char    id[40];
	int     stage; /* index into the operator's next actions */
	int     busy; /* a request for it is in flight */
	int     level;
	int64_t next_sim_ms; /* when the operator takes the next step */
} demo_alarm;

/* A request in flight (a fixed pool: nothing leaks at shutdown). */
typedef struct demo_job {
	struct demo *d;
	int          used;
	int          type;
	int          place; /* index into places */
	int          discrepancy;
	int64_t      seq; /* a shift's number (handovers) */
	char         id[40];
} demo_job;

#define DEMO_MAX_JOBS 128
#define DEMO_MAX_RECOUNTS 16

typedef struct demo {
	xz_plugin     *self;
	const xz_host *host;
	/* options */
	int64_t speed; /* simulated seconds per second of the node clock */
	int64_t tick_ms; /* node-clock period of the demo's timer */
	int64_t shift_ms; /* simulated */
	int64_t alarms_per_shift;
	int64_t assessments_per_shift;
	int64_t max_open;
	int64_t step_ms; /* simulated time between an operator's steps */
	int64_t discrepancy_pc; /* roll calls with a discrepancy */
	int64_t tz_ms; /* local time's offset from UTC */
	int     rc_times[DEMO_MAX_TIMES]; /* roll-call minutes of the day */
	int     nrc_times;
	struct {
		char name[32];
		int  from; /* minute of the day it starts */
	} shifts[DEMO_MAX_SHIFTS]; /* the prison's duty shifts, by start */
	int nshifts;
	/* the duty: the shift number now (day * nshifts + index) and the
	 * last one rostered; duty_started once both are set */
	int64_t duty_seq, duty_rostered;
	int     duty_started;
	/* simulated time */
	int64_t    anchor_node_ms, anchor_sim_ms, last_sim_ms;
	double     acc_alarms, acc_assess;
	uint64_t   rng;
	uint64_t   timer;
	int        loading; /* list requests in flight */
	uint64_t   ticks;
	int        have_places, have_residents;
	demo_place places[DEMO_MAX_PLACES];
	int        nplaces;
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
void     demo_tick(demo *d); /* the simulated time since the last tick */

#endif
