/*
 * http_reply.c - replies: JSON in the service's style, text and bytes,
 * extra headers, and the layer's own errors through the service's hooks.
 *
 * Every JSON body leaves valid UTF-8: cJSON copies string bytes as they are,
 * so an error that echoes a request's invalid bytes (a path, a model name)
 * would otherwise put raw bytes into the reply.  The compact printer fixes
 * the tree first (U+FFFD per ill-formed sequence); pyjson_print does the
 * same by itself for the Python styles.
 */
#include "http/http_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pyjson.h"
#include "common/utf8.h"

/* ---- UTF-8 ---------------------------------------------------------------- */

/* A copy of s with each ill-formed sequence as U+FFFD, or NULL when s is
 * already valid (*nomem set when the copy failed). */
static char *fixed_utf8(const char *s, bool *nomem)
{
    size_t len = strlen(s);
    if (utf8_valid(s, len))
        return NULL;
    char *out = malloc(len * 3 + 1), *o = out;
    if (out == NULL) {
        *nomem = true;
        return NULL;
    }
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(o, p + i, n);
        o += n;
        i += n;
    }
    *o = '\0';
    return out;
}

int http_json_fix_utf8(cJSON *j)
{
    bool nomem = false;
    for (; j != NULL; j = j->next) {
        if (j->string != NULL && !(j->type & cJSON_StringIsConst)) {
            char *f = fixed_utf8(j->string, &nomem);
            if (f != NULL) {
                cJSON_free(j->string);
                j->string = f;
            }
        }
        if (cJSON_IsString(j) && j->valuestring != NULL) {
            char *f = fixed_utf8(j->valuestring, &nomem);
            if (f != NULL) {
                cJSON_free(j->valuestring);
                j->valuestring = f;
            }
        }
        if (j->child != NULL && http_json_fix_utf8(j->child) < 0)
            return -1;
        if (nomem)
            return -1;
    }
    return 0;
}

char *http_json_print(http_server *srv, cJSON *body)
{
    switch (srv->cfg.json_style) {
    case HTTP_JSON_PYTHON:
        return pyjson_print(body, PYJSON_DUMPS);
    case HTTP_JSON_FLASK:
        return pyjson_print(body, PYJSON_FLASK);
    case HTTP_JSON_FASTAPI:
        return pyjson_print(body, PYJSON_COMPACT);
    case HTTP_JSON_COMPACT:
    default:
        if (http_json_fix_utf8(body) < 0)
            return NULL;
        return cJSON_PrintUnformatted(body);
    }
}

/* ---- handler-side helpers -------------------------------------------------- */

/* Gives r->raw back (http_reply_take's release, else free) and forgets it. */
static void raw_drop(http_reply *r)
{
    if (r->raw != NULL) {
        if (r->raw_release != NULL)
            r->raw_release(r->raw_release_arg);
        else
            free(r->raw);
    }
    r->raw = NULL;
    r->raw_len = 0;
    r->raw_release = NULL;
    r->raw_release_arg = NULL;
}

void http_reply_clear(http_reply *r)
{
    cJSON_Delete(r->body);
    raw_drop(r);
    memset(r, 0, sizeof(*r));
}

void http_reply_json(http_reply *reply, int status, cJSON *body)
{
    if (reply->body != NULL && reply->body != body)
        cJSON_Delete(reply->body);
    raw_drop(reply);
    reply->content_type[0] = '\0';
    reply->status = status;
    reply->body = body;
}

void http_reply_error(http_reply *reply, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *body = cJSON_CreateObject();
    if (body != NULL)
        cJSON_AddStringToObject(body, "error", msg);
    http_reply_json(reply, status, body);
}

int http_reply_bytes(http_reply *reply, int status, const char *content_type, const void *data,
                     size_t len)
{
    char *copy = malloc(len != 0 ? len : 1);
    if (copy == NULL || content_type == NULL ||
        strlen(content_type) >= sizeof(reply->content_type) ||
        strpbrk(content_type, "\r\n") != NULL) {
        free(copy);
        http_reply_error(reply, 500, "cannot build the reply (out of memory or bad type)");
        return -1;
    }
    if (len != 0)
        memcpy(copy, data, len);
    cJSON_Delete(reply->body);
    reply->body = NULL;
    raw_drop(reply);
    reply->raw = copy;
    reply->raw_len = len;
    snprintf(reply->content_type, sizeof(reply->content_type), "%s", content_type);
    reply->status = status;
    return 0;
}

int http_reply_take(http_reply *reply, int status, const char *content_type, void *data,
                    size_t len, void (*release)(void *arg), void *arg)
{
    if (content_type == NULL || strlen(content_type) >= sizeof(reply->content_type) ||
        strpbrk(content_type, "\r\n") != NULL) {
        if (release != NULL)
            release(arg);
        else
            free(data);
        http_reply_error(reply, 500, "cannot build the reply (bad content type)");
        return -1;
    }
    cJSON_Delete(reply->body);
    reply->body = NULL;
    raw_drop(reply);
    reply->raw = data;
    reply->raw_len = len;
    reply->raw_release = release;
    reply->raw_release_arg = arg;
    snprintf(reply->content_type, sizeof(reply->content_type), "%s", content_type);
    reply->status = status;
    return 0;
}

int http_reply_text(http_reply *reply, int status, const char *content_type, const char *text)
{
    return http_reply_bytes(reply, status, content_type, text, strlen(text));
}

int http_reply_header(http_reply *reply, const char *name, const char *value)
{
    if (reply->n_headers >= HTTP_REPLY_MAX_HEADERS || name == NULL || value == NULL ||
        strlen(name) >= sizeof(reply->headers[0].name) ||
        strlen(value) >= sizeof(reply->headers[0].value) || strpbrk(name, "\r\n: ") != NULL ||
        strpbrk(value, "\r\n") != NULL || name[0] == '\0')
        return -1;
    snprintf(reply->headers[reply->n_headers].name, sizeof(reply->headers[0].name), "%s", name);
    snprintf(reply->headers[reply->n_headers].value, sizeof(reply->headers[0].value), "%s",
             value);
    reply->n_headers++;
    return 0;
}

/* ---- the layer's errors ---------------------------------------------------- */

void http_server_set_error_body(http_server *s, http_error_body_fn fn)
{
    if (s != NULL)
        __atomic_store_n(&s->error_body, fn, __ATOMIC_RELEASE);
}

int http_server_set_error_body_for(http_server *s, const char *path_prefix, http_error_body_fn fn)
{
    if (s == NULL || path_prefix == NULL || fn == NULL)
        return -1;
    int n = __atomic_load_n(&s->n_error_prefixes, __ATOMIC_ACQUIRE);
    if (n >= HTTP_MAX_ERROR_PREFIXES)
        return -1;
    s->error_prefixes[n].prefix = path_prefix;
    s->error_prefixes[n].fn = fn;
    __atomic_store_n(&s->n_error_prefixes, n + 1, __ATOMIC_RELEASE);
    return 0;
}

void http_server_set_error_reply(http_server *s, http_error_reply_fn fn)
{
    if (s != NULL)
        __atomic_store_n(&s->error_reply, fn, __ATOMIC_RELEASE);
}

void http_reply_layer_error(http_server *srv, const http_route *route, http_reply *r, int status,
                            const char *msg)
{
    http_reply_clear(r);
    int n = __atomic_load_n(&srv->n_error_prefixes, __ATOMIC_ACQUIRE);
    for (int i = 0; route != NULL && i < n; i++) {
        const char *prefix = srv->error_prefixes[i].prefix;
        if (strncmp(route->path, prefix, strlen(prefix)) != 0)
            continue;
        cJSON *shaped = srv->error_prefixes[i].fn(status, msg);
        if (shaped != NULL) {
            r->status = status;
            r->body = shaped;
            return;
        }
    }
    http_error_reply_fn rfn = __atomic_load_n(&srv->error_reply, __ATOMIC_ACQUIRE);
    if (rfn != NULL) {
        rfn(status, msg, r);
        if (r->status != 0)
            return;
        http_reply_clear(r);
    }
    http_error_body_fn fn = __atomic_load_n(&srv->error_body, __ATOMIC_ACQUIRE);
    cJSON *body = fn != NULL ? fn(status, msg) : NULL;
    if (body == NULL) {
        body = cJSON_CreateObject();
        if (body != NULL)
            cJSON_AddStringToObject(body, "error", msg);
    }
    r->status = status;
    r->body = body;
}

/* ---- sending ------------------------------------------------------------------ */

enum MHD_Result http_reply_send(http_request *req, http_reply *r)
{
    http_server *srv = req->srv;
    int status = r->status;
    char *text = NULL;
    size_t len = 0;
    const char *ctype = NULL;
    void (*release)(void *arg) = NULL;
    void *release_arg = NULL;
    if (r->raw != NULL) {
        text = r->raw;
        len = r->raw_len;
        release = r->raw_release;
        release_arg = r->raw_release_arg;
        r->raw = NULL;
        r->raw_release = NULL;
        ctype = r->content_type;
    } else if (r->body != NULL) {
        text = http_json_print(srv, r->body);
        if (text == NULL) {
            status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            text = strdup("{\"error\":\"out of memory while writing the reply\"}");
            if (text == NULL) {
                http_reply_clear(r);
                return MHD_NO;
            }
        }
        len = strlen(text);
        ctype = "application/json";
    }
    /* A taken body goes back through its release once MHD is done with it
     * (sent, or the connection gone). */
    struct MHD_Response *resp =
        release != NULL
            ? MHD_create_response_from_buffer_with_free_callback_cls(len, text, release,
                                                                     release_arg)
            : MHD_create_response_from_buffer(len, text != NULL ? text : "",
                                              text != NULL ? MHD_RESPMEM_MUST_FREE
                                                           : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        if (release != NULL)
            release(release_arg);
        else
            free(text);
        http_reply_clear(r);
        return MHD_NO;
    }
    if (ctype != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    for (int i = 0; i < r->n_headers; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    if (req->close_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    http_reply_clear(r);
    enum MHD_Result res = MHD_queue_response(req->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (res == MHD_YES) {
        req->responded = true;
        req->status = status;
        req->bytes_out = len;
    }
    return res;
}
