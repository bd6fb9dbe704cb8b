/*
 * svc_main.h - the start-up and shutdown plumbing every service shares:
 * the common flags, the --host/--port overrides, the malloc tuning, the
 * manager client, the HTTP settings and the wait for SIGTERM/SIGINT.
 */
#ifndef HDM_SVC_SVC_MAIN_H
#define HDM_SVC_SVC_MAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "common/yamlconf.h"
#include "hailodm.h"
#include "http/http.h"

typedef struct svc_args {
    const char *config_path; /* never NULL after svc_parse_args */
    bool explicit_config;    /* --config or $<env>: a missing file is an error */
    const char *host, *port; /* --host, --port (NULL: not given) */
    bool check_only;         /* --check-config */
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

/*
 * Reads a whole file of at most `max` bytes into a malloc'd buffer (*out,
 * the caller frees it; *len its length) for the services' one-shot command
 * line modes.  Returns 0, or a negative HDM_E_* code (not_found,
 * too_large, nomem, internal) with `err` naming the file.
 */
int svc_read_file(const char *path, size_t max, uint8_t **out, size_t *len, hdm_err *err);
/*
 * The manager socket a service talks to: $HAILO_DEVICE_SOCKET when set,
 * else `configured` (the config's manager.socket) when non-empty, else
 * /run/hailo/device.sock.  Never NULL; for logging and the client.
 */
const char *svc_manager_socket(const char *configured);
/*
 * The service's manager client on svc_manager_socket(configured), sending
 * client_name `name`, waiting 2 s for the manager to appear per call and
 * `timeout_s` for each request.  Returns 0, or a negative HDM_E_* code
 * after logging why (the caller exits).
 */
int svc_client_new(const char *name, const char *configured, int timeout_s, hdm_client **out);
/*
 * HTTP settings every service starts from: http_config_defaults, then the
 * config's bind address, handler threads, body limit and bearer token
 * (borrowed), the service name, and an idle connection timeout of
 * timeout_s + 30 s (a request may take timeout_s on the manager).  The
 * caller sets what is its own (JSON style, queue sizes) afterwards.
 */
void svc_http_config(http_config *hc, const char *name, const char *host, int port, int threads,
                     size_t max_body, const char *bearer_token, int timeout_s);

#endif
