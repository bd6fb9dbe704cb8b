/*
 * view.c - the readable form of a status answer: device and queue lines,
 * memory, the loaded models and per-client figures.  Shared by `status` and
 * `watch`.  Fields a manager does not send (an older one, or v1) are skipped.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "devctl/devctl.h"

void view_models(FILE *out, const cJSON *status)
{
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(status, "loaded_models");
    if (cJSON_GetArraySize(models) == 0) {
        fprintf(out, "no models loaded\n");
        return;
    }
    static const char *const headers[] = {"TYPE",   "PATH",      "MEMORY",  "KEEP-ALIVE",
                                          "LOADED", "LAST USED", "REQUESTS"};
    table *t = table_new(7, headers);
    double now = (double)time(NULL);
    const cJSON *m;
    cJSON_ArrayForEach(m, models)
    {
        char mem[32] = "-", keep[32] = "default", loaded[32], used[32], reqs[32] = "-";
        double fp = devctl_num(m, "footprint_bytes", -1);
        if (fp >= 0)
            devctl_fmt_bytes(mem, sizeof(mem), fp);
        double ka = devctl_num(m, "keep_alive", NAN);
        if (!isnan(ka)) {
            if (ka < 0)
                snprintf(keep, sizeof(keep), "pinned");
            else if (ka == 0)
                snprintf(keep, sizeof(keep), "unload after use");
            else
                devctl_fmt_duration(keep, sizeof(keep), ka);
        }
        double left = devctl_num(m, "expires_in_seconds", -1);
        if (left >= 0) {
            char l[24];
            devctl_fmt_duration(l, sizeof(l), left);
            size_t len = strlen(keep);
            snprintf(keep + len, sizeof(keep) - len, " (%s left)", l);
        }
        char ago[24];
        devctl_fmt_duration(ago, sizeof(ago), now - devctl_num(m, "loaded_at", now));
        snprintf(loaded, sizeof(loaded), "%s ago", ago);
        devctl_fmt_duration(ago, sizeof(ago), now - devctl_num(m, "last_used", now));
        snprintf(used, sizeof(used), "%s ago", ago);
        double n = devctl_num(m, "requests", -1);
        if (n >= 0)
            snprintf(reqs, sizeof(reqs), "%.0f", n);
        const char *cells[] = {devctl_str(m, "model_type", "?"),
                               devctl_str(m, "model_path", "?"),
                               mem,
                               keep,
                               loaded,
                               used,
                               reqs};
        table_row(t, cells);
    }
    table_print(t, out);
    table_free(t);
}

static void view_clients(FILE *out, const cJSON *clients)
{
    static const char *const headers[] = {"CLIENT", "QUEUED",       "REQUESTS",
                                          "ERRORS", "WAIT p50/p99", "SERVICE p50/p99"};
    table *t = table_new(6, headers);
    const cJSON *c;
    cJSON_ArrayForEach(c, clients)
    {
        char q[24], r[24], e[24], wait[48], svc[48];
        snprintf(q, sizeof(q), "%.0f", devctl_num(c, "queued", 0));
        snprintf(r, sizeof(r), "%.0f", devctl_num(c, "requests", 0));
        snprintf(e, sizeof(e), "%.0f", devctl_num(c, "errors", 0));
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(c, "wait_ms");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "service_ms");
        snprintf(wait, sizeof(wait), "%.1f/%.1f ms", devctl_num(w, "p50", 0),
                 devctl_num(w, "p99", 0));
        snprintf(svc, sizeof(svc), "%.1f/%.1f ms", devctl_num(s, "p50", 0),
                 devctl_num(s, "p99", 0));
        const char *cells[] = {devctl_str(c, "name", "?"), q, r, e, wait, svc};
        table_row(t, cells);
    }
    table_print(t, out);
    table_free(t);
}

void view_status(FILE *out, const cJSON *status)
{
    char buf1[32], buf2[32];
    fprintf(out, "device      %s\n", devctl_str(status, "device_id", "?"));
    fprintf(out, "socket      %s\n", devctl_str(status, "socket_path", "?"));
    devctl_fmt_duration(buf1, sizeof(buf1), devctl_num(status, "uptime_seconds", 0));
    fprintf(out, "uptime      %s\n", buf1);

    fprintf(out, "queue       %.0f waiting", devctl_num(status, "queue_depth", 0));
    const cJSON *prio = cJSON_GetObjectItemCaseSensitive(status, "queue_by_priority");
    const cJSON *p;
    const char *sep = " (";
    cJSON_ArrayForEach(p, prio)
    {
        if (cJSON_IsNumber(p) && p->valuedouble > 0) {
            fprintf(out, "%s%s %.0f", sep, p->string, p->valuedouble);
            sep = ", ";
        }
    }
    fprintf(out, "%s\n", strcmp(sep, ", ") == 0 ? ")" : "");

    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(status, "memory");
    if (mem != NULL) {
        double total = devctl_num(mem, "total_bytes", 0), used = devctl_num(mem, "used_bytes", 0);
        devctl_fmt_bytes(buf1, sizeof(buf1), used);
        devctl_fmt_bytes(buf2, sizeof(buf2), total);
        fprintf(out, "memory      %s of %s used (%.0f%%)\n", buf1, buf2,
                total > 0 ? 100.0 * used / total : 0.0);
    }
    fprintf(out, "evictions   %.0f\n", devctl_num(status, "total_lru_evictions", 0));
    const char *broken = devctl_str(status, "runtime_broken_reason", NULL);
    fprintf(out, "runtime     %s%s\n", broken ? "broken: " : "ok", broken ? broken : "");
    const char *cap = devctl_str(status, "last_capacity_event_reason", NULL);
    if (cap != NULL)
        fprintf(out, "capacity    %s (%s)\n", cap,
                devctl_str(status, "last_capacity_event_model", "?"));
    fprintf(out, "\n");
    view_models(out, status);
    const cJSON *clients = cJSON_GetObjectItemCaseSensitive(status, "clients");
    if (cJSON_GetArraySize(clients) > 0) {
        fprintf(out, "\n");
        view_clients(out, clients);
    }
}
