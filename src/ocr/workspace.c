/*
 * workspace.c - per-request buffers kept between requests (ocr.h).
 *
 * Why: a 1920x1080 page needs a 2 MB float plane of the detection map and
 * a 0.5 MB band of it at the image's size, a 2 MB bitmap, a 1.5 MB
 * detection input and 1.5 MB of recognition inputs (the last two share the
 * first two's buffers).  Allocated fresh, every 4 KiB page of them is a
 * page fault and a page the kernel zeroes, about 10 ms per request here
 * (docs/BENCHMARKS.md); a kept buffer is written in place.  The pool never
 * holds more workspaces than requests ran at once, which the decode gate
 * bounds (images.max_concurrent), and a workspace that grew beyond
 * keep_bytes for a huge image gives that memory back when its request ends.
 */
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr.h"

void ocr_workspace_pool_init(ocr_workspace_pool *p, size_t keep_bytes)
{
    pthread_mutex_init(&p->mu, NULL);
    p->free_list = NULL;
    p->keep_bytes = keep_bytes;
}

static void ws_release(ocr_workspace *ws)
{
    free(ws->bytes);
    free(ws->map);
    ws->bytes = NULL;
    ws->map = NULL;
    ws->bytes_cap = ws->map_cap = 0;
}

void ocr_workspace_pool_free(ocr_workspace_pool *p)
{
    ocr_workspace *ws = p->free_list;
    while (ws) {
        ocr_workspace *next = ws->next;
        ws_release(ws);
        free(ws);
        ws = next;
    }
    p->free_list = NULL;
    pthread_mutex_destroy(&p->mu);
}

ocr_workspace *ocr_workspace_get(ocr_workspace_pool *p)
{
    pthread_mutex_lock(&p->mu);
    ocr_workspace *ws = p->free_list;
    if (ws)
        p->free_list = ws->next;
    pthread_mutex_unlock(&p->mu);
    if (!ws)
        ws = calloc(1, sizeof(*ws));
    else
        ws->next = NULL;
    return ws;
}

size_t ocr_workspace_bytes(const ocr_workspace *ws)
{
    return ws->bytes_cap + ws->map_cap;
}

void ocr_workspace_put(ocr_workspace_pool *p, ocr_workspace *ws)
{
    if (!ws)
        return;
    if (ocr_workspace_bytes(ws) > p->keep_bytes)
        ws_release(ws);
    pthread_mutex_lock(&p->mu);
    ws->next = p->free_list;
    p->free_list = ws;
    pthread_mutex_unlock(&p->mu);
}

int ocr_workspace_reserve(void **buf, size_t *cap, size_t n, size_t elem, const char *what,
                          hdm_err *err)
{
    if (elem && n > SIZE_MAX / elem)
        return hdm_err_set(err, HDM_E_NOMEM, "%s: %zu elements are too many", what, n);
    size_t bytes = n * elem;
    if (bytes <= *cap && *buf)
        return 0;
    /* free + malloc, not realloc: the old contents are not needed. */
    free(*buf);
    *buf = malloc(bytes > 0 ? bytes : 1);
    if (!*buf) {
        *cap = 0;
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the %s (%zu bytes)", what, bytes);
    }
    *cap = bytes;
    return 0;
}
