/*
 * dashboard-health.h - probes the services the dashboard shows: one GET of
 * each configured URL (their /health), all at once, bounded by one timeout,
 * and keeps the last result of each for the page.
 *
 * DESIGN: a small HTTP/1.0 client of our own (no library to load, nothing
 * kept between rounds but the results): per round, one non-blocking TCP
 * connection to each service's numeric address, all polled together
 * against one deadline.  Probes run on the dashboard's own thread, never on
 * the event loop; a round waits at most timeout_ms in all, however many
 * services hang.  http:// only, no proxy, no redirects, at most 16 KiB of
 * an answer read.  Not thread-safe: one thread probes and reads the results.
 */
#ifndef HDM_MANAGER_DASHBOARD_HEALTH_H
#define HDM_MANAGER_DASHBOARD_HEALTH_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "dashboard-config.h"

/* Most bytes read of one answer (status line, headers and body): a /health
 * object is a few hundred bytes; what lies beyond is not read. */
#define DASHBOARD_HEALTH_REPLY_MAX (16 * 1024)

typedef enum dashboard_health_state {
    DASHBOARD_HEALTH_UNKNOWN,  /* not probed yet */
    DASHBOARD_HEALTH_UP,       /* answered 2xx */
    DASHBOARD_HEALTH_DEGRADED, /* answered, but not 2xx (e.g. 503 not ready) */
    DASHBOARD_HEALTH_DOWN,     /* no HTTP answer: refused, timed out, cut, not HTTP */
} dashboard_health_state;

typedef struct dashboard_health_result {
    dashboard_health_state state;
    int http_status;   /* 0 when there was no answer */
    double latency_ms; /* time to the answer (or to the failure) */
    double checked_at; /* unix seconds; 0 when never */
    char detail[160];  /* the answer's "status" (or "reason"/"error"), or why it failed */
} dashboard_health_result;

typedef struct dashboard_health dashboard_health;

/* A prober for the n services (copied; their URLs as dashboard_url_parse
 * takes them).  0, -HDM_E_NOMEM, or -HDM_E_BAD_REQUEST for a URL it refuses,
 * with err naming the service. */
int dashboard_health_new(const dashboard_service *services, size_t n, int timeout_ms,
                         dashboard_health **out, hdm_err *err);
/* Accepts NULL. */
void dashboard_health_free(dashboard_health *h);

/*
 * Probes every service in parallel and records the results; returns when
 * all answered or failed, at most timeout_ms (plus scheduling) after it
 * started.  A service that does not answer in time, refuses, closes before
 * the end of its headers or answers something other than HTTP is down (the
 * detail says which); an answer is read with dashboard_health_read_answer.
 * Returns 0, or -HDM_E_NOMEM when the round's buffers cannot be had (every
 * result then says so, state unknown).
 */
int dashboard_health_probe(dashboard_health *h, hdm_err *err);

/* Number of services, and the i-th result (i < count). */
size_t dashboard_health_count(const dashboard_health *h);
const dashboard_health_result *dashboard_health_result_at(const dashboard_health *h, size_t i);
/* The state's word on the page: "unknown", "up", "degraded", "down". */
const char *dashboard_health_state_name(dashboard_health_state s);

/*
 * Fills res->state, res->http_status and res->detail from an answer:
 * 2xx is up, any other status degraded (the service answers but is not
 * ready); detail is the body's JSON "status" string, else "reason", else
 * "error", else (for degraded) "HTTP <code>", control characters blanked,
 * cut to fit.  body need not be NUL-terminated (len bytes; NULL with 0).
 */
void dashboard_health_classify(long http_code, const char *body, size_t len,
                               dashboard_health_result *res);

/*
 * Fills res->state, res->http_status and res->detail from the len bytes a
 * probe received (no NUL needed, NULL with 0; all of an answer, or its first
 * DASHBOARD_HEALTH_REPLY_MAX bytes): "HTTP/d.d NNN" (NNN 100..599) and the
 * headers up to their empty line, then the body, cut to its Content-Length
 * when there is one, read by dashboard_health_classify.  Anything else is
 * down: not HTTP (the detail quotes the first line), or the headers cut
 * short (closed early, or longer than the cap).
 */
void dashboard_health_read_answer(const char *reply, size_t len, dashboard_health_result *res);

/* [{name, url, state, http_status, latency_ms, checked_at, detail}] (NULL
 * when out of memory). */
cJSON *dashboard_health_json(const dashboard_health *h);

#endif
