/*
 * main.c - hailo-device-manager: the one process that owns the Hailo NPU.
 *
 * Start-up follows systemd's timesyncd: logging, configuration, event loop,
 * listening socket (inherited or our own: a live manager on it means we
 * refuse to start, before touching the device), the manager (backend,
 * registry, scheduler, worker), preload, READY=1, HTTP endpoint, loop,
 * STOPPING=1, orderly teardown.
 */
#include <malloc.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "config.h"
#include "http.h"
#include "listen.h"
#include "loop.h"

int main(int argc, char **argv)
{
    int64_t t0 = mono_ms();
    /* Requests carry tensors of a few hundred KB: keep such blocks on the
     * heap for reuse instead of an mmap/munmap (and page faults) per request,
     * while still returning memory after a burst. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
    manager_config cfg;
    hdm_err err;
    hdm_err_clear(&err);
    int rc = config_load(&cfg, argc, argv, &err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "%s%s\n", cfg.check_config ? "" : "hailo-device-manager: ", err.msg);
        config_free(&cfg);
        return rc < 0 ? (cfg.check_config ? 1 : 2) : 0;
    }
    log_init("hailo-device-manager", cfg.log_level);

    /* Signals arrive through the loop's signalfd; block them before any
     * thread starts so every thread inherits the mask. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    static loop l;
    loop_limits limits = {
        .max_frame = cfg.max_message_bytes,
        .frame_timeout_ms = cfg.frame_timeout_ms,
        /* Room for a few frames of the largest size being received at once. */
        .max_buffered = cfg.max_buffered_bytes ? cfg.max_buffered_bytes : 4 * cfg.max_message_bytes,
        .stop_timeout_ms = cfg.stop_timeout_ms,
    };
    if (limits.max_buffered < cfg.max_message_bytes)
        limits.max_buffered = cfg.max_message_bytes;
    if (loop_init(&l, &limits, &err) < 0)
        fatal("%s", err.msg);

    listen_socket ls;
    if (listen_open(&ls, cfg.socket_path, cfg.socket_mode, cfg.socket_group, &err) < 0)
        fatal("%s", err.msg);

    if (ls.activated && cfg.socket_group)
        log_info("socket group '%s' not applied: the socket came from systemd, whose socket "
                 "unit sets its mode and group",
                 cfg.socket_group);

    manager *m = NULL;
    worker_hooks answers = {.complete = loop_on_complete, .delta = loop_on_delta, .ctx = &l};
    if (manager_new(&cfg, &answers, &m, &err) < 0) {
        listen_close(&ls); /* no socket left behind that nobody serves */
        fatal("%s", err.msg);
    }

    loop_preload(&l, m);
    if (!l.stopping)
        sd_notifyf(0, "READY=1\nSTATUS=Serving on %s (backend %s, device %s)", cfg.socket_path,
                   m->ops->name, m->info.device_id);
    log_info("ready on %s%s (backend %s, device %s%s) in %lld ms", cfg.socket_path,
             ls.activated ? " (socket activation)" : "", m->ops->name, m->info.device_id,
             m->info.simulated ? ", simulated" : "", (long long)(mono_ms() - t0));

    /* After READY: the status endpoint is not on the clients' critical path. */
    http_endpoint *http = NULL;
    if (cfg.http_bind) {
        hdm_err_clear(&err);
        if (http_endpoint_start(m, cfg.http_bind, &http, &err) < 0)
            log_error("status endpoint disabled: %s", err.msg);
    }

    if (loop_run(&l, m, &ls) < 0) {
        /* The worker is stuck in a device call that ignored cancellation:
         * joining it would hang the stop forever.  Leave the device to the
         * kernel, as a crash would, and say so with the exit status. */
        http_endpoint_stop(http);
        listen_close(&ls);
        log_error("stopped without releasing the device");
        _exit(1);
    }

    http_endpoint_stop(http);
    manager_free(m);
    listen_close(&ls);
    loop_destroy(&l);
    config_free(&cfg);
    log_info("stopped");
    return 0;
}
