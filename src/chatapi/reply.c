/*
 * reply.c - OpenAI-shaped error replies and the hang-up eventfd the chat
 * services give a generation.
 */
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "chatapi/chatapi.h"
#include "common/log.h"
#include "http/http.h"

void openai_reply_error(http_reply *reply, int status, const char *message, const char *param,
                        const char *code)
{
    http_reply_json(reply, status, completion_error(status, message, param, code));
}

void openai_reply_gen_error(http_reply *reply, int r, const hdm_err *err, bool client_gone)
{
    if (r == -HDM_E_CANCELLED && client_gone) {
        /* Nobody reads this reply: the client hung up and the manager
         * dropped the work. */
        log_info("client went away; generation cancelled");
        openai_reply_error(reply, 499, err->msg, NULL, "cancelled");
        return;
    }
    int status = -r == HDM_E_NOT_FOUND ? 503 : completion_status_for(r);
    log_warn("generation failed (%s): %s", hdm_error_code_name(r), err->msg);
    openai_reply_error(reply, status, err->msg, NULL, hdm_error_code_name(r));
}

static void cancel_hook(void *user)
{
    int fd = *(int *)user;
    uint64_t one = 1;
    /* Cannot fail short of a counter overflow; the call then stops anyway
     * when the reply cannot be written. */
    if (write(fd, &one, sizeof(one)) < 0)
        return;
}

void chat_cancel_begin(chat_cancel *cc, http_request *hr)
{
    cc->hr = hr;
    cc->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (cc->fd >= 0)
        http_request_on_close(hr, cancel_hook, &cc->fd);
}

void chat_cancel_end(chat_cancel *cc)
{
    if (cc->fd < 0)
        return;
    http_request_on_close(cc->hr, NULL, NULL);
    close(cc->fd);
    cc->fd = -1;
}
