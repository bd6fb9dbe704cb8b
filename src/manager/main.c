/*
 * main.c - hailo-device-manager: the one process that owns the Hailo NPU.
 *
 * Start-up follows systemd's timesyncd: logging, configuration, listening
 * socket (inherited or our own: a live manager on it means we refuse to
 * start, before touching the device), backend, registry, scheduler, worker,
 * HTTP endpoint, preload, READY=1, loop, STOPPING=1, orderly teardown.
 */
#include <malloc.h>
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

static bool resident_cb(void *ctx, model_kind kind, const char *model_path)
{
    loop *l = ctx;
    return registry_is_resident(l->reg, kind, model_path);
}

/* A start-up that fails after listening (fatal() leaves through exit())
 * must not leave its socket file behind. */
static listen_socket *listening;

static void close_listener_at_exit(void)
{
    listen_close(listening);
}

/* Picks and opens the backend; never falls back from hardware to the
 * simulator on its own. */
static const backend_ops *open_backend(const manager_config *cfg, backend **dev)
{
    backend_config bcfg = {.sim_config_path = cfg->sim_config, .group_id = cfg->group_id};
    hdm_err err;
    hdm_err_clear(&err);
    const backend_ops *ops;
    if (strcmp(cfg->backend, "sim") == 0) {
        ops = backend_find("sim");
        if (!ops)
            fatal("the sim backend is not built in");
        if (ops->open(&bcfg, dev, &err) < 0)
            fatal("cannot start the simulated device: %s", err.msg);
        return ops;
    }
    ops = backend_find("hailort");
    if (!ops) {
        if (strcmp(cfg->backend, "hailort") == 0)
            fatal("this build has no HailoRT backend (HailoRT was not found when it was "
                  "built); use --backend sim to run on the simulated Hailo-10H");
        fatal("no Hailo device: this build has no HailoRT backend. Refusing to start rather "
              "than fall back silently; use --backend sim to run on the simulated Hailo-10H");
    }
    if (ops->open(&bcfg, dev, &err) < 0) {
        if (strcmp(cfg->backend, "hailort") == 0)
            fatal("cannot open the Hailo device: %s", err.msg);
        fatal("no Hailo device could be opened (%s). Refusing to start rather than fall back "
              "silently; use --backend sim to run on the simulated Hailo-10H",
              err.msg);
    }
    return ops;
}

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
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    static loop l;
    if (loop_init(&l, &cfg, &err) < 0)
        fatal("%s", err.msg);
    if (path_allowlist_parse(&l.allow, cfg.model_dirs) < 0)
        fatal("out of memory");

    static listen_socket ls;
    if (listen_open(&ls, cfg.socket_path, cfg.socket_mode, cfg.socket_group, &err) < 0)
        fatal("%s", err.msg);
    l.ls = &ls;
    listening = &ls;
    atexit(close_listener_at_exit);

    l.ops = open_backend(&cfg, &l.dev);
    if (l.ops->identify(l.dev, &l.info, &err) < 0) {
        log_warn("device identify failed: %s", err.msg);
        snprintf(l.info.device_id, sizeof(l.info.device_id), "unknown");
    }
    if (registry_new(l.ops, l.dev, &cfg.reg, &l.reg) < 0)
        fatal("cannot create the model registry (out of memory)");
    if (sched_new_err(&cfg.sched, loop_on_complete, resident_cb, &l, &l.sched, &err) < 0)
        fatal("cannot create the scheduler: %s", err.msg);
    worker_hooks hooks = {.complete = loop_on_complete, .delta = loop_on_delta, .ctx = &l};
    if (worker_start(l.sched, l.reg, &hooks, &l.worker) < 0)
        fatal("cannot start the device worker thread");

    loop_preload(&l);
    sd_notifyf(0, "READY=1\nSTATUS=Serving on %s (backend %s, device %s)", cfg.socket_path,
               l.ops->name, l.info.device_id);
    log_info("ready on %s%s (backend %s, device %s%s) in %lld ms", cfg.socket_path,
             ls.activated ? " (socket activation)" : "", l.ops->name, l.info.device_id,
             l.info.simulated ? ", simulated" : "", (long long)(mono_ms() - t0));

    /* After READY: the status endpoint is not on the clients' critical path. */
    http_endpoint *http = NULL;
    if (cfg.http_bind) {
        hdm_err_clear(&err);
        if (http_endpoint_start(&l, cfg.http_bind, &http, &err) < 0)
            log_error("status endpoint disabled: %s", err.msg);
    }

    loop_run(&l);

    http_endpoint_stop(http);
    worker_stop(l.worker);
    registry_free(l.reg);
    sched_free(l.sched);
    l.ops->close(l.dev);
    listen_close(&ls);
    path_allowlist_free(&l.allow);
    loop_destroy(&l);
    config_free(&cfg);
    log_info("stopped");
    return 0;
}
