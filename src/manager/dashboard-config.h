/*
 * dashboard-config.h - the dashboard's settings (config.c's `dashboard.*`
 * rows land here): where its files are, the services whose /health it
 * probes, and how often it samples and probes while a page is open.
 */
#ifndef HDM_MANAGER_DASHBOARD_CONFIG_H
#define HDM_MANAGER_DASHBOARD_CONFIG_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/err.h"

/* Most services one config may name; longest service name. */
#define DASHBOARD_MAX_SERVICES 32
#define DASHBOARD_SERVICE_NAME_MAX 32
#define DASHBOARD_SERVICE_URL_MAX 512

/* Defaults of the integer settings. */
#define DASHBOARD_DEFAULT_INTERVAL_MS 2000
#define DASHBOARD_DEFAULT_HEALTH_INTERVAL_MS 5000
#define DASHBOARD_DEFAULT_HEALTH_TIMEOUT_MS 1000

/* Our services on their default ports, as the original portal knew them. */
#define DASHBOARD_DEFAULT_SERVICES                                                                 \
    "hailo-clip=http://127.0.0.1:5000/health,"                                                     \
    "hailo-vision=http://127.0.0.1:11435/health,"                                                  \
    "hailo-ocr=http://127.0.0.1:11436/health,"                                                     \
    "hailo-whisper=http://127.0.0.1:11437/health,"                                                 \
    "hailo-depth=http://127.0.0.1:11439/health,"                                                   \
    "hailo-pose=http://127.0.0.1:11440/health,"                                                    \
    "hailo-llm=http://127.0.0.1:11434/health"

typedef struct dashboard_service {
    char *name; /* shown on the page: 1..32 of [A-Za-z0-9._-] */
    char *url;  /* probed with GET: an http:// URL (dashboard_url_parse) */
} dashboard_service;

typedef struct dashboard_config {
    char *dir; /* the page's files; NULL: PROGRAM/../share/hailo-ai-services/dashboard */
    dashboard_service *services; /* probed while a page is open */
    size_t n_services;
    int interval_ms;        /* one snapshot this often (while a page polls) */
    int health_interval_ms; /* services probed this often (while a page polls) */
    int health_timeout_ms;  /* a probe round waits at most this long */
} dashboard_config;

/* The built-in defaults (the service list above).  0 or -HDM_E_NOMEM. */
int dashboard_config_defaults(dashboard_config *c, hdm_err *err);
/* Frees the strings and the list; c is zeroed. */
void dashboard_config_free(dashboard_config *c);

/*
 * Checks one service entry "NAME=URL" and appends it to `list` (n entries,
 * grown here).  Errors name the entry: a missing '=', a name outside
 * [A-Za-z0-9._-] or longer than 32, a URL dashboard_url_parse refuses
 * (https:// among them, saying so), a name given twice, more than 32
 * entries.  0 or a negative code with err.
 */
int dashboard_service_add(dashboard_service **list, size_t *n, const char *entry, hdm_err *err);
/* A service URL taken apart: where a probe connects and what it asks. */
typedef struct dashboard_url {
    struct sockaddr_storage addr; /* the host's address and port (80 when none) */
    socklen_t addr_len;
    char host[DASHBOARD_SERVICE_URL_MAX + 1];   /* the Host header: HOST[:PORT] as written */
    char target[DASHBOARD_SERVICE_URL_MAX + 1]; /* path and query; "/" when none */
} dashboard_url;

/*
 * Takes apart http://HOST[:PORT][/PATH][?QUERY][#FRAGMENT] (at most 512
 * printable characters without blanks), HOST being an IPv4 address, an
 * IPv6 address in brackets, or "localhost" (127.0.0.1).  Only http://: the
 * probes speak no TLS.  No name is looked up: getaddrinfo() has no timeout,
 * and a slow resolver would stall the probe round past its deadline (and the
 * manager's shutdown with it).  0, or -HDM_E_BAD_REQUEST with err saying
 * what is wrong (without naming the entry: the caller does).
 */
int dashboard_url_parse(const char *url, dashboard_url *out, hdm_err *err);

/* Frees a service list of n entries. */
void dashboard_services_free(dashboard_service *list, size_t n);

/*
 * Replaces c's services with those of `text`: entries separated by commas
 * (the environment's form), or "none" for no services.  On error c is
 * unchanged.  0 or a negative code with err.
 */
int dashboard_config_set_services(dashboard_config *c, const char *text, hdm_err *err);

#endif
