/*
 * request.c - the llm_request both APIs become: freeing, stop strings and
 * the text budget, bounded as the manager bounds them (docs/PROTOCOL.md).
 */
#include <stdlib.h>
#include <string.h>

#include "llm/llm.h"

void llm_request_free(llm_request *r)
{
    if (!r)
        return;
    cJSON_Delete(r->messages);
    cJSON_Delete(r->tools);
    free(r->prompt);
    for (int i = 0; i < r->n_stop; i++)
        free(r->stop[i]);
    memset(r, 0, sizeof(*r));
}

int llm_request_add_stop(llm_request *r, const char *s, const char *what, hdm_err *err)
{
    if (!s[0])
        return 0; /* an empty stop string never matches: nothing to send */
    if (strlen(s) > LLM_MAX_STOP_LEN)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is longer than %d bytes", what,
                           LLM_MAX_STOP_LEN);
    if (r->n_stop >= LLM_MAX_STOP)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "more than %d stop sequences", LLM_MAX_STOP);
    if (!(r->stop[r->n_stop] = strdup(s)))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    r->n_stop++;
    return 0;
}

/* Bytes of the strings in j (message texts, tool names and schemas). */
static size_t text_bytes(const cJSON *j)
{
    size_t n = 0;
    if (cJSON_IsString(j))
        return strlen(j->valuestring);
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next)
        n += text_bytes(c);
    return n;
}

int llm_request_check_size(const llm_request *r, hdm_err *err)
{
    size_t n = text_bytes(r->messages) + text_bytes(r->tools) + (r->prompt ? strlen(r->prompt) : 0);
    if (n > LLM_MAX_TEXT)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "the conversation is %zu bytes of text; at most %u are accepted", n,
                           LLM_MAX_TEXT);
    return 0;
}
