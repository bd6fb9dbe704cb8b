/*
 * svc_main.c - see svc_main.h.  Only what is the same in every HTTP
 * service lives here; each main.c keeps its own usage text and start-up.
 */
#include "svc/svc_main.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>

#include "common/log.h"
#include "http/http.h"

static const char *svc_name = "service";
static void (*reload_fn)(void *user);
static void *reload_user;

int svc_parse_args(int argc, char **argv, const char *name, const char *config_env,
                   const char *default_config, void (*usage)(FILE *f), svc_args *out)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},   {"log-level", required_argument, NULL, 'l'},
        {"check-config", no_argument, NULL, 'C'}, {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    enum log_level level = LOG_LEVEL_INFO;
    int c;

    *out = (svc_args){.config_path = getenv(config_env)};
    out->explicit_config = out->config_path && *out->config_path;
    svc_name = name;
    log_init(name, level);
    while ((c = getopt_long(argc, argv, "c:H:p:l:CVh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            out->config_path = optarg;
            out->explicit_config = true;
            break;
        case 'H':
            out->host = optarg;
            break;
        case 'p':
            out->port = optarg;
            break;
        case 'l':
            if (log_level_parse(optarg, &level) < 0) {
                fprintf(stderr, "%s: bad --log-level '%s'\n", name, optarg);
                return 2;
            }
            log_set_level(level);
            break;
        case 'C':
            out->check_only = true;
            break;
        case 'V':
            printf("%s %s\n", name, HDM_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", name, argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!out->config_path || !*out->config_path)
        out->config_path = default_config;
    return -1;
}

int svc_apply_flags(const conf_key *keys, void *cfg, const svc_args *a, hdm_err *err)
{
    int r = 0;
    if ((a->host && (r = conf_set(keys, cfg, "server.host", a->host, err)) < 0) ||
        (a->port && (r = conf_set(keys, cfg, "server.port", a->port, err)) < 0)) {
        log_error("bad flag: %s", err->msg);
        return r;
    }
    return 0;
}

void svc_tune_malloc(size_t mmap_threshold)
{
#ifdef M_ARENA_MAX
    /* glibc gives each thread that mallocs an arena of its own (up to 8 per
     * core), and each keeps the ~1 MB of freed request buffers it touched:
     * with 16 HTTP threads that was 25 MB of RSS at one client.  Our threads
     * mostly wait on the manager, so two arenas cost no throughput. */
    mallopt(M_ARENA_MAX, 2);
#endif
    if (mmap_threshold > 0)
        mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold);
}

void svc_set_reload_hook(void (*fn)(void *user), void *user)
{
    reload_fn = fn;
    reload_user = user;
}

void svc_serve_until_signal(void)
{
    http_notify_ready("serving");
    for (;;) {
        int sig = http_wait_for_signal();
        if (sig != SIGHUP) {
            log_info("signal %d: stopping", sig);
            break;
        }
        /* Where the log goes is decided at log_init (journal when stderr
         * is the journal stream); do it again, keeping the level. */
        log_init(svc_name, log_get_level());
        if (reload_fn != NULL)
            reload_fn(reload_user);
        log_info("SIGHUP: log re-opened%s; the configuration is read at start only "
                 "(restart the service to apply changes)",
                 reload_fn != NULL ? ", model registration re-checked" : "");
    }
    http_notify_stopping("stopping");
}

const char *svc_manager_socket(const char *configured)
{
    const char *env = getenv("HAILO_DEVICE_SOCKET");
    if (env && *env)
        return env;
    return configured && *configured ? configured : "/run/hailo/device.sock";
}

int svc_client_new(const char *name, const char *configured, int timeout_s, hdm_client **out)
{
    hdm_client_options copts = {
        .socket_path = svc_manager_socket(configured),
        .client_name = name,
        .connect_timeout_ms = 2000,
        .request_timeout_ms = timeout_s * 1000,
    };
    int r = hdm_client_new(&copts, out);
    if (r < 0)
        log_error("cannot create the manager client: %s", hdm_strerror(r));
    return r;
}

void svc_http_config(http_config *hc, const char *name, const char *host, int port, int threads,
                     size_t max_body, const char *bearer_token, int timeout_s)
{
    http_config_defaults(hc);
    hc->host = host;
    hc->port = port;
    hc->threads = threads;
    hc->max_body_bytes = max_body;
    hc->bearer_token = bearer_token;
    hc->service_name = name;
    hc->connection_timeout_s = timeout_s + 30;
}

int svc_read_file(const char *path, size_t max, uint8_t **out, size_t *len, hdm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return hdm_err_set(err, HDM_E_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
    uint8_t *data = malloc(max + 1);
    size_t n = data ? fread(data, 1, max + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!data)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory reading %s", path);
    if (bad || n > max) {
        free(data);
        return hdm_err_set(err, bad ? HDM_E_INTERNAL : HDM_E_TOO_LARGE,
                           bad ? "cannot read %s" : "%s is larger than %zu bytes", path, max);
    }
    *out = data;
    *len = n;
    return 0;
}
