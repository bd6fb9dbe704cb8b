/*
 * config.h - the manager's settings: command-line flags, environment, YAML
 * config file and built-in defaults, in that order of precedence.
 */
#ifndef HDM_MANAGER_CONFIG_H
#define HDM_MANAGER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/log.h"
#include "dashboard-config.h"
#include "job.h"
#include "registry.h"
#include "sched.h"

#define CONFIG_DEFAULT_SOCKET "/run/hailo/device.sock"
#define CONFIG_DEFAULT_HTTP_BIND "127.0.0.1:5099"
/* Ours, then where the original Python services keep the models they fetched
 * (an existing install keeps working after the upgrade). */
#define CONFIG_DEFAULT_MODEL_DIRS                                                                  \
    "/usr/local/hailo/resources:/usr/share/hailo-models:/var/lib/hailo:/var/lib/hailo-vision:"     \
    "/var/lib/hailo-whisper:/var/lib/hailo-ocr:/var/lib/hailo-depth:/var/lib/hailo-pose"
#define CONFIG_DEFAULT_SOCKET_MODE 0660
#define CONFIG_DEFAULT_FRAME_TIMEOUT_MS 30000
/* Below systemd's TimeoutStopSec=30 in the unit, so we stop before it kills us. */
#define CONFIG_DEFAULT_STOP_TIMEOUT_MS 20000
#define CONFIG_DEFAULT_GROUP_ID "SHARED"
/* Most entries a config may list under scheduler.client_priority / preload. */
#define CONFIG_MAX_RULES 256
#define CONFIG_MAX_PRELOAD 64

/* parallel_genai: dense jobs on their own worker beside the GenAI one
 * (docs/SCHEDULING.md).  auto: where the backend says the device can. */
typedef enum config_parallel {
    CONFIG_PARALLEL_AUTO,
    CONFIG_PARALLEL_ON,
    CONFIG_PARALLEL_OFF
} config_parallel;

/* preload entry: "model_type:path" or a JSON object string. */
typedef struct preload_entry {
    char *model_type;
    char *model_path;    /* as written; resolved against the allowlist when loaded */
    cJSON *model_params; /* may be NULL */
    bool has_keep_alive;
    double keep_alive;
} preload_entry;

typedef struct manager_config {
    char *config_path; /* --config, NULL when none */
    char *socket_path;
    mode_t socket_mode;
    char *socket_group; /* NULL: leave the group alone */
    char *http_bind;    /* "HOST:PORT", NULL when off */
    char *http_token;   /* bearer token of the status server; NULL/empty: none */
    dashboard_config dashboard; /* the page at http_bind's "/" (dashboard.h) */
    size_t max_message_bytes;
    int frame_timeout_ms;      /* a frame must be complete this long after its first byte */
    size_t max_buffered_bytes; /* unprocessed input held across connections; 0: 4 frames */
    int stop_timeout_ms;       /* SIGTERM: how long the running job may take (then cancelled,
                                  then left behind) */
    char *model_dirs; /* colon-separated allowlist */
    char *backend;    /* auto | hailort | sim */
    char *sim_config; /* NULL when none */
    enum log_level log_level;
    char *group_id;
    config_parallel parallel_genai;
    sched_config sched;
    registry_config reg;
    char **client_priority; /* validated "name=class" / "uid:N=class" entries; also
                               handed to the scheduler through sched.client_priority */
    size_t n_client_priority;
    preload_entry *preload;
    size_t n_preload;
    bool check_config;
    int argc;    /* the command line it was read from (borrowed; for reloading) */
    char **argv;
} manager_config;

/*
 * Fills *cfg from argv, the environment and the config file.  Returns 0 to
 * run, 1 when the program should exit 0 at once (--help, --version printed,
 * or --check-config passed), or a negative code with err->msg ("file:line:
 * message" for config file errors).  cfg must be freed with config_free in
 * every case.
 */
int config_load(manager_config *cfg, int argc, char **argv, hdm_err *err);
void config_free(manager_config *cfg);

/* Parses "HOST:PORT" into its parts (host without brackets).  Returns 0 or -1. */
int config_split_bind(const char *bind, char *host, size_t host_len, char *port, size_t port_len);

#endif
