/*
 * client.c - hdm_client: a pool of connections, calls with deadlines, and
 * recovery from a manager restart.
 *
 * DESIGN: each call takes an idle connection from the pool (or opens one) and
 * owns it until it returns, so calls from many threads run side by side and
 * the mutex only guards the pool, the remembered models and the id counter.
 * A v1 connection carries one request at a time, which keeps matching an
 * answer to its request trivial.
 *
 * Restart recovery: when the peer vanishes during a call (EOF, EPIPE,
 * ECONNRESET) or a new connection finds the socket missing or refusing, the
 * client starts a new epoch, marks "replay needed" and drops every idle
 * connection (they all lead to the dead process); a connection of an older
 * epoch that a call hands back later is closed instead of pooled, so a retry
 * never picks up a connection to the dead process.  Only a failure on a
 * connection of the current epoch starts a new one, so threads that see the
 * same restart do not undo each other's recovery.  Every connection opened from then on passes one
 * gate (replay_mu): the first through it sends again every load_model this
 * client succeeded with, and the others wait for that, so no call reaches the
 * new manager before the models are back.  The interrupted request is then
 * sent again if that is safe: it is idempotent, or a stream that has not
 * delivered any text yet.  Normally that one resend succeeds; but a resend
 * can land in the listen backlog of a manager that is just stopping and be
 * reset unanswered, so a safe request gets up to RESEND_MAX resends, spaced
 * by a short backoff, within connect_timeout_ms of the first failure.  Replays are idempotent
 * ("Model already loaded"), so a second thread marking the same restart costs one extra round of
 * loads, nothing more.  Any other failure (deadline, malformed frame,
 * cancel) closes the connection, since its state is unknown.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "lib/internal.h"

#define DEFAULT_SOCKET "/run/hailo/device.sock"
#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_REQUEST_TIMEOUT_MS 30000
/* Resends of an interrupted safe request while the manager restarts. */
#define RESEND_MAX 3
#define RESEND_BACKOFF_MS 20

struct hdm_client {
    char *socket_path;
    char *client_name;
    int connect_timeout_ms;
    int request_timeout_ms; /* -1: none */
    bool json_only;
    size_t max_bytes;

    pthread_mutex_t replay_mu; /* held while a new connection replays the loads */
    pthread_mutex_t mu;        /* guards the fields below */
    bool need_replay;          /* a restart was seen; the loads are not back yet */
    unsigned epoch;            /* restarts seen so far */
    conn *idle;
    model_entry *models;
    unsigned long long next_id;
};

/* One call in progress. */
typedef struct call {
    hdm_client *cl;
    hdm_request *req;
    const char *action;
    const char *request_id;
    int timeout_ms;   /* for messages; -1 none */
    int64_t deadline; /* mono_ms, or DEADLINE_NONE */
    hdm_delta_cb on_delta;
    void *user;
    size_t delivered; /* deltas handed to on_delta */
} call;

HDM_EXTERN int hdm_client_new(const hdm_client_options *opts, hdm_client **out)
{
    if (out == NULL)
        return -HDM_E_BAD_REQUEST;
    hdm_client_options o = {0};
    if (opts != NULL)
        o = *opts;
    const char *path = o.socket_path;
    if (path == NULL || path[0] == '\0')
        path = getenv("HAILO_DEVICE_SOCKET");
    if (path == NULL || path[0] == '\0')
        path = DEFAULT_SOCKET;
    if (o.connect_timeout_ms < 0 || o.request_timeout_ms < -1)
        return -HDM_E_BAD_REQUEST;

    hdm_client *cl = calloc(1, sizeof(*cl));
    if (cl == NULL)
        return -HDM_E_NOMEM;
    cl->socket_path = strdup(path);
    cl->client_name = o.client_name != NULL ? strdup(o.client_name) : NULL;
    if (cl->socket_path == NULL || (o.client_name != NULL && cl->client_name == NULL)) {
        free(cl->socket_path);
        free(cl->client_name);
        free(cl);
        return -HDM_E_NOMEM;
    }
    cl->connect_timeout_ms =
        o.connect_timeout_ms ? o.connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    cl->request_timeout_ms =
        o.request_timeout_ms ? o.request_timeout_ms : DEFAULT_REQUEST_TIMEOUT_MS;
    cl->json_only = o.json_only != 0;
    cl->max_bytes = o.max_message_bytes ? o.max_message_bytes : FRAME_DEFAULT_MAX_BYTES;
    pthread_mutex_init(&cl->mu, NULL);
    pthread_mutex_init(&cl->replay_mu, NULL);
    *out = cl;
    return 0;
}

static void drop_idle_locked(hdm_client *cl)
{
    while (cl->idle != NULL) {
        conn *next = cl->idle->next;
        conn_close(cl->idle);
        cl->idle = next;
    }
}

HDM_EXTERN void hdm_client_free(hdm_client *cl)
{
    if (cl == NULL)
        return;
    drop_idle_locked(cl);
    models_free(&cl->models);
    pthread_mutex_destroy(&cl->mu);
    pthread_mutex_destroy(&cl->replay_mu);
    free(cl->socket_path);
    free(cl->client_name);
    free(cl);
}

static conn *pool_take(hdm_client *cl)
{
    pthread_mutex_lock(&cl->mu);
    conn *c = cl->idle;
    if (c != NULL)
        cl->idle = c->next;
    pthread_mutex_unlock(&cl->mu);
    if (c != NULL)
        c->next = NULL;
    return c;
}

static void pool_put(hdm_client *cl, conn *c)
{
    pthread_mutex_lock(&cl->mu);
    bool current = c->epoch == cl->epoch;
    if (current) {
        c->next = cl->idle;
        cl->idle = c;
    }
    pthread_mutex_unlock(&cl->mu);
    if (!current)
        conn_close(c); /* opened before a restart was seen: it leads to the old process */
}

static unsigned current_epoch(hdm_client *cl)
{
    pthread_mutex_lock(&cl->mu);
    unsigned e = cl->epoch;
    pthread_mutex_unlock(&cl->mu);
    return e;
}

/*
 * The manager went away (or is starting again), as seen by something of
 * epoch `seen_in`: unless that news is old, start a new epoch and forget the
 * connections to the old process.
 */
static void mark_restart(hdm_client *cl, unsigned seen_in)
{
    pthread_mutex_lock(&cl->mu);
    if (seen_in == cl->epoch) {
        cl->epoch++;
        drop_idle_locked(cl);
        if (cl->models != NULL)
            cl->need_replay = true;
    }
    pthread_mutex_unlock(&cl->mu);
}

/* Rewrites a deadline error so it says how long and for what. */
static int deadline_error(const call *k, hdm_err *err)
{
    if (k->timeout_ms >= 0)
        return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED,
                           "no answer from the device manager at %s within %d ms (%s)",
                           k->cl->socket_path, k->timeout_ms, k->action);
    return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED, "no answer from the device manager at %s",
                       k->cl->socket_path);
}

/* A delta frame of a stream: {"delta": "...", "done": false}. */
static bool is_delta(const cJSON *json)
{
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(json, "done");
    return cJSON_IsFalse(done) && !cJSON_HasObjectItem(json, "error");
}

/*
 * Sends `w` on `c` and reads until the final answer of request `id`; deltas
 * go to k->on_delta when set.  Returns 0 with *out, or a negative code.
 */
static int exchange(call *k, conn *c, const request_wire *w, const char *id, hdm_response **out,
                    hdm_err *err)
{
    /* A cancellable request makes every wait of this exchange cancellable;
     * a cancelled connection is closed by the caller (its state is unknown). */
    c->cancel_fd = k->req->has_cancel ? k->req->cancel_fd : -1;
    int r = conn_send(c, w->iov, w->niov, k->deadline, err);
    while (r == 0) {
        frame f;
        hdm_response *resp = NULL;
        if ((r = conn_recv_frame(c, k->cl->max_bytes, k->deadline, &f, err)) < 0)
            break;
        if ((r = response_from_frame(c, &f, &resp, err)) < 0)
            break;
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(resp->json, "request_id");
        if (cJSON_IsString(rid) && strcmp(rid->valuestring, id) != 0) {
            r = hdm_err_set(err, HDM_E_PROTOCOL,
                            "the device manager answered request %s while %s was waiting",
                            rid->valuestring, id);
            hdm_response_free(resp);
            break;
        }
        if (k->on_delta == NULL || !is_delta(resp->json)) {
            c->cancel_fd = -1;
            *out = resp;
            return 0;
        }
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(resp->json, "delta");
        int stop = 0;
        if (cJSON_IsString(delta)) {
            k->delivered++;
            stop = k->on_delta(k->user, delta->valuestring, strlen(delta->valuestring));
        }
        hdm_response_free(resp);
        if (stop != 0)
            r = hdm_err_set(err, HDM_E_CANCELLED, "the caller stopped the stream");
    }
    c->cancel_fd = -1;
    if (r == -HDM_E_DEADLINE_EXCEEDED)
        r = deadline_error(k, err);
    return r;
}

/* Sends every remembered load_model again on `c` (after a manager restart). */
static int replay_models(call *k, conn *c, hdm_err *err)
{
    pthread_mutex_lock(&k->cl->mu);
    cJSON *loads = models_snapshot(k->cl->models);
    pthread_mutex_unlock(&k->cl->mu);
    if (loads == NULL)
        return 0;
    int r = 0;
    cJSON *item;
    cJSON_ArrayForEach(item, loads)
    {
        char id[64];
        pthread_mutex_lock(&k->cl->mu);
        snprintf(id, sizeof(id), "hdm-%ld-%llu-replay", (long)getpid(), ++k->cl->next_id);
        pthread_mutex_unlock(&k->cl->mu);
        hdm_request req = {.json = item};
        request_wire w;
        hdm_response *resp = NULL;
        call replay = *k;
        replay.on_delta = NULL;
        replay.action = "load_model";
        r = request_encode(&req, true, id, k->cl->client_name, &w, err);
        if (r == 0)
            r = exchange(&replay, c, &w, id, &resp, err);
        request_wire_free(&w);
        /* A model the new manager refuses is the next call's error to report, not this one's. */
        hdm_response_free(resp);
        if (r < 0)
            break;
    }
    cJSON_Delete(loads);
    return r;
}

/* Every new connection passes here: replays the loads when a restart was seen. */
static int replay_gate(call *k, conn *c, hdm_err *err)
{
    int r = 0;
    pthread_mutex_lock(&k->cl->replay_mu);
    pthread_mutex_lock(&k->cl->mu);
    bool needed = k->cl->need_replay;
    k->cl->need_replay = false;
    pthread_mutex_unlock(&k->cl->mu);
    if (needed && (r = replay_models(k, c, err)) < 0) {
        pthread_mutex_lock(&k->cl->mu);
        k->cl->need_replay = true;
        pthread_mutex_unlock(&k->cl->mu);
    }
    pthread_mutex_unlock(&k->cl->replay_mu);
    return r;
}

static bool retry_is_safe(const call *k)
{
    static const char *const idempotent[] = {"ping",       "status",       "device_status",
                                             "load_model", "unload_model", "infer"};
    if (k->on_delta != NULL)
        return k->delivered == 0;
    for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++)
        if (strcmp(k->action, idempotent[i]) == 0)
            return true;
    return false;
}

/* Remembers or forgets models after a successful load_model / unload_model. */
static void track_models(call *k)
{
    pthread_mutex_lock(&k->cl->mu);
    if (strcmp(k->action, "load_model") == 0)
        models_remember(&k->cl->models, k->req->json);
    else if (strcmp(k->action, "unload_model") == 0)
        models_forget(&k->cl->models, k->req->json);
    pthread_mutex_unlock(&k->cl->mu);
}

static int run_call(call *k, hdm_response **out, hdm_err *err)
{
    request_wire w;
    int r = request_encode(k->req, k->cl->json_only, k->request_id, k->cl->client_name, &w, err);
    if (r < 0)
        return r;
    int64_t recover_by = DEADLINE_NONE;
    for (int attempt = 0;; attempt++) {
        conn *c = pool_take(k->cl);
        if (c == NULL) {
            int64_t connect_by = mono_ms() + k->cl->connect_timeout_ms;
            if (connect_by > recover_by)
                connect_by = recover_by;
            unsigned before = current_epoch(k->cl);
            bool waited;
            r = conn_open(k->cl->socket_path, connect_by < k->deadline ? connect_by : k->deadline,
                          &c, &waited, err);
            if (waited)
                mark_restart(k->cl, before);
            if (r < 0)
                break;
            c->epoch = current_epoch(k->cl);
            r = replay_gate(k, c, err);
        }
        hdm_response *resp = NULL;
        if (r == 0)
            r = exchange(k, c, &w, k->request_id, &resp, err);
        if (r == 0) {
            pool_put(k->cl, c);
            *out = resp;
            break;
        }
        unsigned epoch = c->epoch;
        conn_close(c);
        if (r != -HDM_E_UNAVAILABLE)
            break;
        mark_restart(k->cl, epoch);
        if (attempt == 0)
            recover_by = mono_ms() + k->cl->connect_timeout_ms;
        if (attempt >= RESEND_MAX || !retry_is_safe(k) || mono_ms() >= recover_by ||
            mono_ms() >= k->deadline)
            break;
        if (attempt > 0)
            sleep_ms(RESEND_BACKOFF_MS << (attempt - 1));
    }
    request_wire_free(&w);
    return r;
}

/* Sets "stream": true, replacing a value the caller may have put there. */
static int set_stream(cJSON *json)
{
    cJSON *t = cJSON_CreateTrue();
    if (t == NULL)
        return -HDM_E_NOMEM;
    if (cJSON_HasObjectItem(json, "stream"))
        cJSON_ReplaceItemInObjectCaseSensitive(json, "stream", t);
    else
        cJSON_AddItemToObject(json, "stream", t);
    return 0;
}

HDM_EXTERN int hdm_call_stream(hdm_client *cl, hdm_request *req, int timeout_ms,
                               hdm_delta_cb on_delta, void *user, hdm_response **out)
{
    if (out != NULL)
        *out = NULL;
    if (cl == NULL || req == NULL || timeout_ms < -1)
        return -HDM_E_BAD_REQUEST;
    if (on_delta != NULL && set_stream(req->json) < 0)
        return -HDM_E_NOMEM;

    call k = {
        .cl = cl, .req = req, .action = request_action(req), .on_delta = on_delta, .user = user};
    k.timeout_ms = timeout_ms == 0 ? cl->request_timeout_ms : timeout_ms;
    k.deadline = k.timeout_ms < 0 ? DEADLINE_NONE : mono_ms() + k.timeout_ms;

    /* A caller's request_id is kept; request_encode rewrites the item, so copy it. */
    char *id = NULL;
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(req->json, "request_id");
    if (cJSON_IsString(given)) {
        id = strdup(given->valuestring);
    } else {
        char made[64];
        pthread_mutex_lock(&cl->mu);
        snprintf(made, sizeof(made), "hdm-%ld-%llu", (long)getpid(), ++cl->next_id);
        pthread_mutex_unlock(&cl->mu);
        id = strdup(made);
    }
    if (id == NULL)
        return -HDM_E_NOMEM;
    k.request_id = id;

    hdm_err err = {0};
    hdm_response *resp = NULL;
    int r = run_call(&k, &resp, &err);
    if (r < 0) {
        resp = response_synth(r, id, err.msg[0] ? err.msg : hdm_strerror(r));
    } else {
        r = response_status(resp);
        if (r == 0)
            track_models(&k);
    }
    free(id);
    if (out != NULL)
        *out = resp;
    else
        hdm_response_free(resp);
    return r;
}

HDM_EXTERN int hdm_call(hdm_client *cl, hdm_request *req, int timeout_ms, hdm_response **out)
{
    return hdm_call_stream(cl, req, timeout_ms, NULL, NULL, out);
}
