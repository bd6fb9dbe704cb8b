/*
 * dashboard-config.c - the dashboard's settings: defaults and the service
 * list ("NAME=URL" entries).
 */
#include "manager/dashboard-config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool name_ok(const char *s, size_t len)
{
    if (len == 0 || len > DASHBOARD_SERVICE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* http(s)://HOST[...]: printable ASCII without blanks, a host after the scheme. */
static bool url_ok(const char *url)
{
    size_t len = strlen(url);
    const char *rest;
    if (len == 0 || len > DASHBOARD_SERVICE_URL_MAX)
        return false;
    if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    else
        return false;
    if (*rest == '\0' || *rest == '/' || *rest == ':' || *rest == '?' || *rest == '#')
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

int dashboard_service_add(dashboard_service **list, size_t *n, const char *entry, hdm_err *err)
{
    const char *eq = strchr(entry, '=');
    if (!eq)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "dashboard service '%s' is not NAME=URL (e.g. "
                           "hailo-clip=http://127.0.0.1:5000/health)",
                           entry);
    size_t name_len = (size_t)(eq - entry);
    if (!name_ok(entry, name_len))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "dashboard service '%.*s': a name is 1..%d letters, digits, '.', "
                           "'_' or '-'",
                           (int)(name_len > 64 ? 64 : name_len), entry, DASHBOARD_SERVICE_NAME_MAX);
    if (!url_ok(eq + 1))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "dashboard service '%.*s': '%.80s' is not an http:// or https:// URL "
                           "of at most %d characters without blanks",
                           (int)name_len, entry, eq + 1, DASHBOARD_SERVICE_URL_MAX);
    for (size_t i = 0; i < *n; i++)
        if (strlen((*list)[i].name) == name_len && memcmp((*list)[i].name, entry, name_len) == 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "dashboard service '%.*s' is named twice",
                               (int)name_len, entry);
    if (*n >= DASHBOARD_MAX_SERVICES)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "more than %d dashboard services",
                           DASHBOARD_MAX_SERVICES);
    dashboard_service *grown = realloc(*list, (*n + 1) * sizeof(**list));
    if (!grown)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    *list = grown;
    dashboard_service *s = &grown[*n];
    s->name = strndup(entry, name_len);
    s->url = strdup(eq + 1);
    if (!s->name || !s->url) {
        free(s->name);
        free(s->url);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    (*n)++;
    return 0;
}

void dashboard_services_free(dashboard_service *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i].name);
        free(list[i].url);
    }
    free(list);
}

int dashboard_config_set_services(dashboard_config *c, const char *text, hdm_err *err)
{
    dashboard_service *list = NULL;
    size_t n = 0;
    if (strcasecmp(text, "none") != 0) {
        char *copy = strdup(text);
        if (!copy)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        char *save = NULL;
        int rc = 0;
        for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0;
             tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ' || *tok == '\t')
                tok++;
            size_t l = strlen(tok);
            while (l > 0 && (tok[l - 1] == ' ' || tok[l - 1] == '\t'))
                tok[--l] = '\0';
            if (l > 0)
                rc = dashboard_service_add(&list, &n, tok, err);
        }
        free(copy);
        if (rc < 0) {
            dashboard_services_free(list, n);
            return rc;
        }
    }
    dashboard_services_free(c->services, c->n_services);
    c->services = list;
    c->n_services = n;
    return 0;
}

int dashboard_config_defaults(dashboard_config *c, hdm_err *err)
{
    memset(c, 0, sizeof(*c));
    c->interval_ms = DASHBOARD_DEFAULT_INTERVAL_MS;
    c->health_interval_ms = DASHBOARD_DEFAULT_HEALTH_INTERVAL_MS;
    c->health_timeout_ms = DASHBOARD_DEFAULT_HEALTH_TIMEOUT_MS;
    return dashboard_config_set_services(c, DASHBOARD_DEFAULT_SERVICES, err);
}

void dashboard_config_free(dashboard_config *c)
{
    if (!c)
        return;
    free(c->dir);
    dashboard_services_free(c->services, c->n_services);
    memset(c, 0, sizeof(*c));
}
