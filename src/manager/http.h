/*
 * http.h - the manager's small HTTP endpoint (libmicrohttpd, its own
 * thread): GET /v1/device/status (the device_status payload),
 * GET /metrics (Prometheus text), and the dashboard: its page's files
 * (dashboard-static.h) and GET /v1/dashboard/state and /history
 * (dashboard.h).  Everything it reads is thread-safe: atomics, and the
 * registry/scheduler status functions.  Read-only; cfg->http_token, when
 * set, is asked of every route but the page's files.
 */
#ifndef HDM_MANAGER_HTTP_H
#define HDM_MANAGER_HTTP_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/err.h"
#include "dashboard.h"
#include "manager.h"

typedef struct http_endpoint http_endpoint;

/* Starts serving on bind ("HOST:PORT") from a helper thread, which loads
 * libmicrohttpd and logs whether the endpoint came up (so the loop is never
 * kept waiting).  Returns 0, or a negative code for a malformed bind. */
int http_endpoint_start(manager *m, const char *bind, http_endpoint **out, hdm_err *err);
/* Stops the server thread and frees it.  Accepts NULL. */
void http_endpoint_stop(http_endpoint *h);

/* Appends the manager's own Prometheus metrics, then the scheduler's and the
 * registry's, to out.  Thread-safe. */
void http_metrics_text(manager *m, buf *out);
/* True when token is NULL/empty (no auth) or `authorization` (the
 * request's header, NULL when absent) is "Bearer <token>" (scheme in any
 * case, blanks around the token ignored; compared in constant time). */
bool http_token_ok(const char *token, const char *authorization);
/* Appends the dashboard's counters (polls, snapshots, probe rounds,
 * watched) to out.  Thread-safe. */
void http_dashboard_metrics(dashboard *d, buf *out);

#endif
