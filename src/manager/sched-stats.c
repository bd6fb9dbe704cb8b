/*
 * sched-stats.c - the scheduler's figures: the client table (round-robin
 * turns and per-client counters), per-client default priorities, service
 * time recording, and the status / Prometheus views.
 *
 * DESIGN: client names come from requests, so the table is bounded
 * (SCHED_MAX_CLIENTS): a new name beyond it recycles the client idle the
 * longest.  Clients with queued jobs are never recycled (their entries point
 * at them); the table only grows past the bound when that many clients all
 * have work queued, which max_queue limits.
 */
#include "manager/sched-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pyjson.h"
#include "common/timeutil.h"

/* ---- clients (s->mu held) ---- */

sched_client *sched_client_get(sched *s, const char *name)
{
    sched_client *c, *idle = NULL;

    for (c = s->clients; c; c = c->next) {
        if (strcmp(c->name, name) == 0)
            return c;
        if (c->queued == 0 && (!idle || c->last_active_ms < idle->last_active_ms))
            idle = c;
    }
    if (s->n_clients >= SCHED_MAX_CLIENTS && idle) {
        sched_client *keep_next = idle->next;
        memset(idle, 0, sizeof *idle);
        idle->next = keep_next;
        c = idle;
    } else {
        c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        c->next = s->clients;
        s->clients = c;
        s->n_clients++;
    }
    snprintf(c->name, sizeof c->name, "%s", name);
    c->last_active_ms = mono_ms();
    return c;
}

void sched_clients_free(sched *s)
{
    while (s->clients) {
        sched_client *n = s->clients->next;
        free(s->clients);
        s->clients = n;
    }
    s->n_clients = 0;
}

static int code_index(int rc)
{
    int code = rc < 0 ? -rc : rc;
    return code < HDM_E__COUNT ? code : HDM_E_INTERNAL;
}

void sched_count_result(sched *s, sched_client *c, int rc)
{
    s->requests_by_code[code_index(rc)]++;
    if (c) {
        c->requests++;
        if (rc)
            c->errors++;
    }
}

double sched_mean_service_ms(const sched *s)
{
    return s->service_n ? s->service_ewma_ms : SCHED_INITIAL_SERVICE_MS;
}

double sched_lane_service_ms(const sched *s, sched_lane lane)
{
    return s->lane_n[lane] ? s->lane_ewma_ms[lane] : sched_mean_service_ms(s);
}

/* ---- per-client default priorities ---- */

int sched_rules_parse(sched *s, const sched_config *cfg, hdm_err *err)
{
    if (cfg->n_client_priority == 0)
        return 0;
    if (!cfg->client_priority)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "client_priority: list missing");
    s->rules = calloc(cfg->n_client_priority, sizeof *s->rules);
    if (!s->rules)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for client priorities");
    for (size_t i = 0; i < cfg->n_client_priority; i++) {
        const char *entry = cfg->client_priority[i];
        sched_prio_rule *r = &s->rules[i];
        const char *eq = entry ? strrchr(entry, '=') : NULL;
        size_t name_len;

        if (!eq)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "client_priority[%zu]: \"%s\" is not NAME=CLASS or uid:N=CLASS", i,
                               entry ? entry : "(null)");
        if (job_priority_parse(eq + 1, &r->prio) != 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "client_priority[%zu]: unknown class \"%s\" (realtime, "
                               "interactive, normal or batch)",
                               i, eq + 1);
        name_len = (size_t)(eq - entry);
        if (name_len == 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "client_priority[%zu]: empty client name",
                               i);
        if (strncmp(entry, "uid:", 4) == 0) {
            char digits[24];
            char *end;
            if (name_len - 4 == 0 || name_len - 4 >= sizeof digits)
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "client_priority[%zu]: bad uid in \"%s\"", i, entry);
            memcpy(digits, entry + 4, name_len - 4);
            digits[name_len - 4] = 0;
            unsigned long long uid = strtoull(digits, &end, 10);
            if (*end || digits[0] < '0' || digits[0] > '9' || uid > 0xfffffffeULL)
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "client_priority[%zu]: bad uid \"%s\"",
                                   i, digits);
            r->by_uid = true;
            r->uid = (uid_t)uid;
        } else {
            if (name_len >= sizeof r->name)
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "client_priority[%zu]: client name longer than %zu bytes", i,
                                   sizeof r->name - 1);
            memcpy(r->name, entry, name_len);
            r->name[name_len] = 0;
        }
        s->n_rules++;
    }
    return 0;
}

job_priority sched_default_priority(sched *s, const char *client_name, uid_t uid,
                                    job_priority fallback)
{
    /* Rules never change after sched_new: no lock needed. */
    if (client_name)
        for (size_t i = 0; i < s->n_rules; i++)
            if (!s->rules[i].by_uid && strcmp(s->rules[i].name, client_name) == 0)
                return s->rules[i].prio;
    for (size_t i = 0; i < s->n_rules; i++)
        if (s->rules[i].by_uid && s->rules[i].uid == uid)
            return s->rules[i].prio;
    return fallback;
}

/* ---- recording ---- */

void sched_record_service(sched *s, const job *j, int64_t service_ms)
{
    pthread_mutex_lock(&s->mu);
    sched_client *c = sched_client_get(s, j->client_name[0] ? j->client_name : "anonymous");
    stats_ewma_update(&s->service_ewma_ms, &s->service_n, (double)service_ms, SCHED_EWMA_ALPHA);
    sched_lane lane = sched_job_lane(j);
    stats_ewma_update(&s->lane_ewma_ms[lane], &s->lane_n[lane], (double)service_ms,
                      SCHED_EWMA_ALPHA);
    if (c) {
        stats_hist_add(&c->service, (double)service_ms);
        c->last_active_ms = mono_ms();
    }
    if ((unsigned)j->kind < MODEL_KIND__COUNT)
        stats_hist_add(&s->service_by_kind[j->kind], (double)service_ms);
    sched_count_result(s, c, j->rc);
    pthread_mutex_unlock(&s->mu);
}

void sched_record_rejected(sched *s, const char *client_name, int code)
{
    pthread_mutex_lock(&s->mu);
    sched_client *c = sched_client_get(s, client_name && *client_name ? client_name : "anonymous");
    sched_count_result(s, c, code ? code : HDM_E_INTERNAL);
    pthread_mutex_unlock(&s->mu);
}

/* ---- status ---- */

static void json_set(cJSON *obj, const char *key, cJSON *val)
{
    if (!val)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, val);
}

void sched_status_json(sched *s, cJSON *status)
{
    cJSON *by_prio = cJSON_CreateObject();
    cJSON *by_lane = cJSON_CreateObject();
    cJSON *running_by_lane = cJSON_CreateObject();
    cJSON *clients = cJSON_CreateArray();
    cJSON *kinds = cJSON_CreateArray();
    cJSON *sch = cJSON_CreateObject();

    pthread_mutex_lock(&s->mu);
    for (int p = 0; p < PRIO__COUNT; p++)
        cJSON_AddNumberToObject(by_prio, job_priority_name((job_priority)p),
                                (double)s->depth_by_prio[p]);
    for (int l = 0; l < SCHED_LANE__COUNT; l++) {
        cJSON_AddNumberToObject(by_lane, sched_lane_name((sched_lane)l),
                                (double)s->depth_by_lane[l]);
        cJSON_AddNumberToObject(running_by_lane, sched_lane_name((sched_lane)l),
                                (double)s->running_by_lane[l]);
    }
    for (sched_client *c = s->clients; c; c = c->next) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddNumberToObject(o, "queued", (double)c->queued);
        cJSON_AddNumberToObject(o, "requests", (double)c->requests);
        cJSON_AddNumberToObject(o, "errors", (double)c->errors);
        stats_hist_json(&c->wait, o, "wait_ms");
        stats_hist_json(&c->service, o, "service_ms");
        cJSON_AddItemToArray(clients, o);
    }
    for (int k = 0; k < MODEL_KIND__COUNT; k++) {
        if (s->wait_by_kind[k].count == 0 && s->service_by_kind[k].count == 0)
            continue;
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "model_type", model_kind_name((model_kind)k));
        stats_hist_json(&s->wait_by_kind[k], o, "wait_ms");
        stats_hist_json(&s->service_by_kind[k], o, "service_ms");
        cJSON_AddItemToArray(kinds, o);
    }
    cJSON_AddStringToObject(sch, "mode", s->cfg.mode == SCHED_FIFO ? "fifo" : "fair");
    cJSON_AddNumberToObject(sch, "max_queue", (double)s->cfg.max_queue);
    cJSON_AddNumberToObject(sch, "max_queue_per_client", (double)s->cfg.max_queue_per_client);
    pyjson_add_float(sch, "mean_service_ms", sched_mean_service_ms(s));
    cJSON_AddBoolToObject(sch, "parallel_genai", s->cfg.parallel_lanes);
    cJSON_AddNumberToObject(sch, "running", (double)s->n_running);
    if (running_by_lane)
        cJSON_AddItemToObject(sch, "running_by_lane", running_by_lane);
    cJSON_AddNumberToObject(sch, "deadline_expired", (double)s->deadline_expired);
    cJSON_AddNumberToObject(sch, "busy_rejections", (double)s->busy_rejections);
    cJSON_AddNumberToObject(sch, "cancelled_disconnect", (double)s->cancel_disconnect);
    cJSON_AddNumberToObject(sch, "cancelled_request", (double)s->cancel_request);
    cJSON_AddNumberToObject(sch, "cancelled_shutdown", (double)s->cancel_shutdown);
    cJSON_AddNumberToObject(sch, "affinity_picks", (double)s->affinity_picks);
    json_set(status, "queue_depth", cJSON_CreateNumber((double)s->depth));
    pthread_mutex_unlock(&s->mu);

    json_set(status, "queue_by_priority", by_prio);
    json_set(status, "queue_by_lane", by_lane);
    json_set(status, "scheduler", sch);
    json_set(status, "clients", clients);
    json_set(status, "model_types", kinds);
}

/* ---- Prometheus ---- */

static void family(buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void sched_metrics(sched *s, buf *out)
{
    pthread_mutex_lock(&s->mu);
    family(out, "hailo_queue_depth", "gauge",
           "Jobs waiting in the device queue, by priority class.");
    for (int p = 0; p < PRIO__COUNT; p++)
        buf_printf(out, "hailo_queue_depth{priority=\"%s\"} %zu\n",
                   job_priority_name((job_priority)p), s->depth_by_prio[p]);
    family(out, "hailo_queue_limit", "gauge", "Configured queue bound, in total and per client.");
    buf_printf(out, "hailo_queue_limit{scope=\"total\"} %zu\n", s->cfg.max_queue);
    buf_printf(out, "hailo_queue_limit{scope=\"per_client\"} %zu\n", s->cfg.max_queue_per_client);
    family(out, "hailo_lane_queue_depth", "gauge",
           "Jobs waiting in the device queue, by lane (dense: clip, ocr, depth, pose; genai: vlm, "
           "whisper, llm).");
    for (int l = 0; l < SCHED_LANE__COUNT; l++)
        buf_printf(out, "hailo_lane_queue_depth{lane=\"%s\"} %zu\n", sched_lane_name((sched_lane)l),
                   s->depth_by_lane[l]);
    family(out, "hailo_lane_running", "gauge", "Jobs a device worker is running now, by lane.");
    for (int l = 0; l < SCHED_LANE__COUNT; l++)
        buf_printf(out, "hailo_lane_running{lane=\"%s\"} %zu\n", sched_lane_name((sched_lane)l),
                   s->running_by_lane[l]);

    family(out, "hailo_queue_wait_seconds", "histogram",
           "Time device jobs waited in the queue before running, by model type.");
    for (int k = 0; k < MODEL_KIND__COUNT; k++) {
        char labels[64];
        snprintf(labels, sizeof labels, "model_type=\"%s\"", model_kind_name((model_kind)k));
        stats_hist_prometheus(&s->wait_by_kind[k], out, "hailo_queue_wait_seconds", labels);
    }
    family(out, "hailo_service_seconds", "histogram",
           "Time the device worker spent on a job (load and inference), by model type.");
    for (int k = 0; k < MODEL_KIND__COUNT; k++) {
        char labels[64];
        snprintf(labels, sizeof labels, "model_type=\"%s\"", model_kind_name((model_kind)k));
        stats_hist_prometheus(&s->service_by_kind[k], out, "hailo_service_seconds", labels);
    }

    family(out, "hailo_requests_total", "counter",
           "Device requests finished, by result code (ok or the error code).");
    for (int c = 0; c < HDM_E__COUNT; c++) {
        /* NOMEM shares the wire code "internal": fold it in. */
        if (c == HDM_E_NOMEM)
            continue;
        uint64_t n = s->requests_by_code[c];
        if (c == HDM_E_INTERNAL)
            n += s->requests_by_code[HDM_E_NOMEM];
        buf_printf(out, "hailo_requests_total{code=\"%s\"} %llu\n", hdm_error_code_name(c),
                   (unsigned long long)n);
    }
    family(out, "hailo_errors_total", "counter", "Device requests that failed, by error code.");
    for (int c = 1; c < HDM_E__COUNT; c++) {
        if (c == HDM_E_NOMEM)
            continue;
        uint64_t n = s->requests_by_code[c];
        if (c == HDM_E_INTERNAL)
            n += s->requests_by_code[HDM_E_NOMEM];
        buf_printf(out, "hailo_errors_total{code=\"%s\"} %llu\n", hdm_error_code_name(c),
                   (unsigned long long)n);
    }
    family(out, "hailo_cancellations_total", "counter",
           "Queued or running jobs cancelled, by reason.");
    buf_printf(out, "hailo_cancellations_total{reason=\"disconnect\"} %llu\n",
               (unsigned long long)s->cancel_disconnect);
    buf_printf(out, "hailo_cancellations_total{reason=\"request\"} %llu\n",
               (unsigned long long)s->cancel_request);
    buf_printf(out, "hailo_cancellations_total{reason=\"shutdown\"} %llu\n",
               (unsigned long long)s->cancel_shutdown);
    family(out, "hailo_deadline_expired_total", "counter",
           "Jobs answered deadline_exceeded without running.");
    buf_printf(out, "hailo_deadline_expired_total %llu\n", (unsigned long long)s->deadline_expired);
    family(out, "hailo_busy_rejections_total", "counter",
           "Requests answered busy because the queue was full.");
    buf_printf(out, "hailo_busy_rejections_total %llu\n", (unsigned long long)s->busy_rejections);
    family(out, "hailo_affinity_picks_total", "counter",
           "Jobs run ahead of one that needed a model swap (model affinity).");
    buf_printf(out, "hailo_affinity_picks_total %llu\n", (unsigned long long)s->affinity_picks);

    family(out, "hailo_client_requests_total", "counter", "Device requests finished, by client.");
    for (sched_client *c = s->clients; c; c = c->next) {
        buf_printf(out, "hailo_client_requests_total{client=\"");
        stats_prom_escape(out, c->name);
        buf_printf(out, "\"} %llu\n", (unsigned long long)c->requests);
    }
    family(out, "hailo_client_errors_total", "counter", "Device requests that failed, by client.");
    for (sched_client *c = s->clients; c; c = c->next) {
        buf_printf(out, "hailo_client_errors_total{client=\"");
        stats_prom_escape(out, c->name);
        buf_printf(out, "\"} %llu\n", (unsigned long long)c->errors);
    }
    family(out, "hailo_client_queued", "gauge", "Jobs queued, by client.");
    for (sched_client *c = s->clients; c; c = c->next) {
        buf_printf(out, "hailo_client_queued{client=\"");
        stats_prom_escape(out, c->name);
        buf_printf(out, "\"} %zu\n", c->queued);
    }
    pthread_mutex_unlock(&s->mu);
}
