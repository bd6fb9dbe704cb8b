/*
 * http_process.c - what a service process needs around its server:
 * SIGTERM/SIGINT/SIGHUP handled by sigwait() in main (so none of them can
 * kill the process by its default action), and systemd notifications.
 */
#include <signal.h>
#include <stddef.h>

#include <pthread.h>
#include <systemd/sd-daemon.h>

#include "http/http.h"

static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

void http_block_signals(void)
{
    sigset_t set;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A client hanging up must not kill the process; writes report EPIPE. */
    signal(SIGPIPE, SIG_IGN);
}

int http_wait_for_signal(void)
{
    sigset_t set;
    int sig = 0;
    stop_signals(&set);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    if (sigwait(&set, &sig) != 0)
        return -1;
    return sig;
}

int http_notify_ready(const char *status)
{
    if (status != NULL)
        return sd_notifyf(0, "READY=1\nSTATUS=%s", status);
    return sd_notify(0, "READY=1");
}

int http_notify_stopping(const char *status)
{
    if (status != NULL)
        return sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status);
    return sd_notify(0, "STOPPING=1");
}

