/*
 * dashboard-health.c - parallel /health probes over libcurl's multi
 * interface, libcurl loaded at run time.
 */
#include "manager/dashboard-health.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "common/pyjson.h"
#include "common/timeutil.h"

/* The libcurl functions we call, resolved at run time. */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
} curl;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static char curl_error[200];

static void curl_load(void)
{
    /* libcurl3-gnutls first: it shares GnuTLS with libmicrohttpd (already
     * loaded by the status server), where Debian's libcurl4 also brings
     * libssl (measured: 0.6 MB less resident, for the manager's life). */
    void *lib = dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(curl_error, sizeof(curl_error), "cannot load libcurl: %s", dlerror());
        return;
    }
    /* dlsym returns void *; POSIX guarantees it converts to function pointers. */
#define SYM(field, name)                                                                           \
    do {                                                                                           \
        void *p = dlsym(lib, name);                                                                \
        if (!p) {                                                                                  \
            snprintf(curl_error, sizeof(curl_error), "libcurl lacks %s", name);                    \
            return;                                                                                \
        }                                                                                          \
        memcpy(&curl.field, &p, sizeof(p));                                                        \
    } while (0)
    SYM(easy_init, "curl_easy_init");
    SYM(easy_cleanup, "curl_easy_cleanup");
    SYM(easy_setopt, "curl_easy_setopt");
    SYM(easy_getinfo, "curl_easy_getinfo");
    SYM(multi_init, "curl_multi_init");
    SYM(multi_cleanup, "curl_multi_cleanup");
    SYM(multi_add_handle, "curl_multi_add_handle");
    SYM(multi_remove_handle, "curl_multi_remove_handle");
    SYM(multi_perform, "curl_multi_perform");
    SYM(multi_poll, "curl_multi_poll");
    SYM(multi_info_read, "curl_multi_info_read");
    SYM(global_init, "curl_global_init");
#undef SYM
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(curl_error, sizeof(curl_error), "libcurl failed to initialise");
        curl.global_init = NULL;
    }
}

/* Body bytes kept per answer (enough for any /health object). */
#define BODY_MAX 8192

typedef struct probe {
    dashboard_service svc;
    dashboard_health_result res;
    /* one round */
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    char body[BODY_MAX];
    size_t body_len;
    double started;
} probe;

struct dashboard_health {
    probe *p;
    size_t n;
    int timeout_ms;
};

int dashboard_health_new(const dashboard_service *services, size_t n, int timeout_ms,
                         dashboard_health **out, hdm_err *err)
{
    dashboard_health *h = calloc(1, sizeof(*h));
    if (!h || (n && !(h->p = calloc(n, sizeof(*h->p))))) {
        free(h);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    h->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    for (size_t i = 0; i < n; i++) {
        h->p[i].svc.name = strdup(services[i].name);
        h->p[i].svc.url = strdup(services[i].url);
        h->n++;
        if (!h->p[i].svc.name || !h->p[i].svc.url) {
            dashboard_health_free(h);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
    }
    *out = h;
    return 0;
}

void dashboard_health_free(dashboard_health *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++) {
        free(h->p[i].svc.name);
        free(h->p[i].svc.url);
    }
    free(h->p);
    free(h);
}

size_t dashboard_health_count(const dashboard_health *h)
{
    return h ? h->n : 0;
}

const dashboard_health_result *dashboard_health_result_at(const dashboard_health *h, size_t i)
{
    return h && i < h->n ? &h->p[i].res : NULL;
}

const char *dashboard_health_state_name(dashboard_health_state s)
{
    switch (s) {
    case DASHBOARD_HEALTH_UP:
        return "up";
    case DASHBOARD_HEALTH_DEGRADED:
        return "degraded";
    case DASHBOARD_HEALTH_DOWN:
        return "down";
    case DASHBOARD_HEALTH_UNKNOWN:
        break;
    }
    return "unknown";
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    probe *p = user;
    size_t n = size * nmemb;
    size_t room = BODY_MAX - p->body_len;
    size_t take = n < room ? n : room;
    memcpy(p->body + p->body_len, data, take);
    p->body_len += take;
    return n; /* the rest is read and dropped */
}

/* Copies printable text from s into detail (its size), control characters
 * as blanks. */
static void copy_detail(char *detail, size_t size, const char *s)
{
    size_t o = 0;
    for (; s && *s && o + 1 < size; s++)
        detail[o++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
    detail[o] = '\0';
}

static void set_detail(probe *p, const char *s)
{
    copy_detail(p->res.detail, sizeof(p->res.detail), s);
}

void dashboard_health_classify(long http_code, const char *body, size_t len,
                               dashboard_health_result *res)
{
    res->http_status = (int)http_code;
    res->state =
        http_code >= 200 && http_code < 300 ? DASHBOARD_HEALTH_UP : DASHBOARD_HEALTH_DEGRADED;
    res->detail[0] = '\0';
    cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    static const char *const keys[] = {"status", "reason", "error"};
    for (size_t k = 0; j && k < sizeof(keys) / sizeof(keys[0]); k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
        if (cJSON_IsString(v)) {
            copy_detail(res->detail, sizeof(res->detail), v->valuestring);
            break;
        }
    }
    cJSON_Delete(j);
    if (!res->detail[0] && res->state == DASHBOARD_HEALTH_DEGRADED)
        snprintf(res->detail, sizeof(res->detail), "HTTP %ld", http_code);
}

static int set_all_unknown(dashboard_health *h, const char *why, hdm_err *err)
{
    double now = wall_s();
    for (size_t i = 0; i < h->n; i++) {
        probe *p = &h->p[i];
        p->res.state = DASHBOARD_HEALTH_UNKNOWN;
        p->res.http_status = 0;
        p->res.latency_ms = 0;
        p->res.checked_at = now;
        set_detail(p, why);
    }
    return hdm_err_set(err, HDM_E_UNAVAILABLE, "%s", why);
}

static int setup(probe *p, long timeout_ms)
{
    CURL *e = curl.easy_init();
    if (!e)
        return -1;
    p->easy = e;
    p->errbuf[0] = '\0';
    p->body_len = 0;
    curl.easy_setopt(e, CURLOPT_URL, p->svc.url);
    curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"); /* 7.85+; URLs are checked anyway */
    curl.easy_setopt(e, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl.easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl.easy_setopt(e, CURLOPT_USERAGENT, "hailo-device-manager-dashboard/" HDM_VERSION);
    curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl.easy_setopt(e, CURLOPT_WRITEDATA, p);
    curl.easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
    curl.easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    p->started = mono_s();
    return 0;
}

static void finish(probe *p, CURLcode rc)
{
    long code = 0;
    p->res.latency_ms = round((mono_s() - p->started) * 10000.0) / 10.0;
    p->res.checked_at = wall_s();
    curl.easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK && code > 0) {
        dashboard_health_classify(code, p->body, p->body_len, &p->res);
    } else {
        p->res.http_status = 0;
        p->res.state = DASHBOARD_HEALTH_DOWN;
        set_detail(p, p->errbuf[0] ? p->errbuf : "no answer");
    }
}

int dashboard_health_probe(dashboard_health *h, hdm_err *err)
{
    if (h->n == 0)
        return 0;
    pthread_once(&curl_once, curl_load);
    if (!curl.global_init)
        return set_all_unknown(h, curl_error[0] ? curl_error : "libcurl unavailable", err);
    CURLM *multi = curl.multi_init();
    if (!multi)
        return set_all_unknown(h, "libcurl: cannot start a probe round", err);
    size_t added = 0;
    for (size_t i = 0; i < h->n; i++) {
        probe *p = &h->p[i];
        p->easy = NULL;
        if (setup(p, h->timeout_ms) < 0 || curl.multi_add_handle(multi, p->easy) != CURLM_OK) {
            if (p->easy)
                curl.easy_cleanup(p->easy);
            p->easy = NULL;
            p->res.state = DASHBOARD_HEALTH_UNKNOWN;
            p->res.checked_at = wall_s();
            set_detail(p, "out of memory");
            continue;
        }
        added++;
    }
    /* Each transfer has its own timeout; the round's deadline also bounds
     * the loop should libcurl not end one in time. */
    int64_t deadline = mono_ms() + h->timeout_ms + 250;
    int running = (int)added;
    while (running > 0 && mono_ms() < deadline) {
        if (curl.multi_perform(multi, &running) != CURLM_OK)
            break;
        if (running > 0) {
            int64_t left = deadline - mono_ms();
            curl.multi_poll(multi, NULL, 0, (int)(left > 100 ? 100 : left > 0 ? left : 0), NULL);
        }
    }
    CURLMsg *msg;
    int queued;
    while ((msg = curl.multi_info_read(multi, &queued)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg lives in the easy handle: read it before the handle goes. */
        CURL *done = msg->easy_handle;
        CURLcode result = msg->data.result;
        for (size_t i = 0; i < h->n; i++) {
            probe *p = &h->p[i];
            if (p->easy == done) {
                finish(p, result);
                curl.multi_remove_handle(multi, p->easy);
                curl.easy_cleanup(p->easy);
                p->easy = NULL;
                break;
            }
        }
    }
    for (size_t i = 0; i < h->n; i++) {
        probe *p = &h->p[i];
        if (!p->easy)
            continue;
        snprintf(p->errbuf, sizeof(p->errbuf), "no answer within %d ms", h->timeout_ms);
        finish(p, CURLE_OPERATION_TIMEDOUT);
        curl.multi_remove_handle(multi, p->easy);
        curl.easy_cleanup(p->easy);
        p->easy = NULL;
    }
    curl.multi_cleanup(multi);
    return 0;
}

cJSON *dashboard_health_json(const dashboard_health *h)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && h && i < h->n; i++) {
        const probe *p = &h->p[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "name", p->svc.name) ||
            !cJSON_AddStringToObject(o, "url", p->svc.url) ||
            !cJSON_AddStringToObject(o, "state", dashboard_health_state_name(p->res.state)) ||
            !cJSON_AddNumberToObject(o, "http_status", p->res.http_status) ||
            !pyjson_add_float(o, "latency_ms", p->res.latency_ms) ||
            !(p->res.checked_at > 0 ? pyjson_add_float(o, "checked_at", p->res.checked_at)
                                    : cJSON_AddNullToObject(o, "checked_at")) ||
            !cJSON_AddStringToObject(o, "detail", p->res.detail)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
