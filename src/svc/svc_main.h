/*
 * svc_main.h - the start-up and shutdown plumbing hailo-clip and
 * hailo-vision share: their common flags, the --host/--port overrides, the
 * malloc tuning and the wait for SIGTERM/SIGINT.
 */
#ifndef HDM_SVC_SVC_MAIN_H
#define HDM_SVC_SVC_MAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"
#include "common/yamlconf.h"

typedef struct svc_args {
    const char *config_path;  /* never NULL after svc_parse_args */
    bool explicit_config;     /* --config or $<env>: a missing file is an error */
    const char *host, *port;  /* --host, --port (NULL: not given) */
    bool check_only;          /* --check-config */
} svc_args;

/*
 * Starts logging as `name` and parses --config/--host/--port/--log-level/
 * --check-config/--version/--help (short forms c H p l C V h).  The config
 * path comes from --config, else $`config_env`, else `default_config`.
 * Returns -1 to go on, or the exit code to return at once (0 after
 * --version/--help, 2 on a usage error, which `usage` prints to stderr).
 */
int svc_parse_args(int argc, char **argv, const char *name, const char *config_env,
                   const char *default_config, void (*usage)(FILE *f), svc_args *out);
/*
 * Applies --host and --port over the config through `keys`.  Returns 0, or
 * a negative code after logging "bad flag: ..." (the caller exits with 2).
 */
int svc_apply_flags(const conf_key *keys, void *cfg, const svc_args *a, hdm_err *err);
/*
 * Keeps few malloc arenas (the HTTP threads mostly wait on the manager) and,
 * when mmap_threshold > 0, serves blocks from that size up with mmap so a
 * burst of big requests gives its memory back.
 */
void svc_tune_malloc(size_t mmap_threshold);
/*
 * READY=1, then waits for SIGTERM/SIGINT (blocked earlier by
 * http_block_signals), logs it and sends STOPPING=1.  SIGHUP never stops
 * the service: it re-opens the log (the journal or stderr, as at start),
 * runs the reload hook when one is set, logs what it did and goes on
 * waiting.  The configuration is read at start only.
 */
void svc_serve_until_signal(void);
/* Sets the work a SIGHUP does besides re-opening the log (NULL: none);
 * fn runs on the main thread. */
void svc_set_reload_hook(void (*fn)(void *user), void *user);

#endif
