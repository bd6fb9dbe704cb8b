/*
 * dashboard-config.c - the dashboard's settings: defaults and the service
 * list ("NAME=URL" entries) and their http:// URLs.
 */
#include "manager/dashboard-config.h"

#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
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

/* The URL's length and characters: printable ASCII without blanks. */
static bool url_chars_ok(const char *url)
{
    size_t len = strlen(url);
    if (len == 0 || len > DASHBOARD_SERVICE_URL_MAX)
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

int dashboard_url_parse(const char *url, dashboard_url *out, hdm_err *err)
{
    if (!url_chars_ok(url))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "'%.80s' is not an http:// URL of at most %d characters without blanks",
                           url, DASHBOARD_SERVICE_URL_MAX);
    if (strncasecmp(url, "https://", 8) == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "'%.80s' is https://, and the health probes speak plain http:// only "
                           "(no TLS): give the service's http:// address",
                           url);
    if (strncasecmp(url, "http://", 7) != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "'%.80s' is not an http:// URL", url);

    const char *auth = url + 7;
    size_t auth_len = strcspn(auth, "/?#");
    const char *host = auth, *port = NULL;
    size_t host_len = auth_len, port_len = 0;
    if (auth_len > 0 && auth[0] == '[') { /* [IPv6]:PORT */
        const char *close = memchr(auth, ']', auth_len);
        if (!close)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "'%.80s' is not an http:// URL", url);
        host = auth + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < auth + auth_len) {
            if (close[1] != ':')
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "'%.80s' is not an http:// URL", url);
            port = close + 2;
        }
    } else {
        const char *colon = memchr(auth, ':', auth_len);
        if (colon) {
            host_len = (size_t)(colon - auth);
            port = colon + 1;
        }
    }
    if (port)
        port_len = (size_t)(auth + auth_len - port);
    if (host_len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "'%.80s' is not an http:// URL (no host)", url);
    if (memchr(auth, '@', auth_len))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "'%.80s': no user or password in the URL", url);

    char port_text[8] = "80";
    if (port) {
        unsigned long value = 0;
        bool digits = port_len >= 1 && port_len <= 5;
        for (size_t i = 0; digits && i < port_len; i++) {
            digits = port[i] >= '0' && port[i] <= '9';
            value = value * 10 + (unsigned long)(port[i] - '0');
        }
        if (!digits || value < 1 || value > 65535)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "'%.80s': the port must be 1..65535", url);
        snprintf(port_text, sizeof(port_text), "%lu", value);
    }

    /* Numbers only (AI_NUMERICHOST never asks a resolver); "localhost" is
     * the loopback address by definition (RFC 6761). */
    char host_text[DASHBOARD_SERVICE_URL_MAX + 1];
    snprintf(host_text, sizeof(host_text), "%.*s", (int)host_len, host);
    if (strcasecmp(host_text, "localhost") == 0 && host == auth)
        snprintf(host_text, sizeof(host_text), "127.0.0.1");
    struct addrinfo hints = {.ai_family = host == auth ? AF_INET : AF_INET6,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *found = NULL;
    if (getaddrinfo(host_text, port_text, &hints, &found) != 0 || !found)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "'%.80s': the host must be an IPv4 address, an IPv6 address in "
                           "brackets or localhost (names are not looked up: a slow resolver "
                           "would stall the probes)",
                           url);
    memset(&out->addr, 0, sizeof(out->addr));
    memcpy(&out->addr, found->ai_addr, found->ai_addrlen);
    out->addr_len = found->ai_addrlen;
    freeaddrinfo(found);

    snprintf(out->host, sizeof(out->host), "%.*s", (int)auth_len, auth);
    const char *rest = auth + auth_len;
    size_t rest_len = strcspn(rest, "#");
    snprintf(out->target, sizeof(out->target), "%s%.*s", *rest == '/' ? "" : "/", (int)rest_len,
             rest);
    return 0;
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
    dashboard_url url;
    hdm_err why;
    hdm_err_clear(&why);
    if (dashboard_url_parse(eq + 1, &url, &why) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "dashboard service '%.*s': %s", (int)name_len,
                           entry, why.msg);
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
