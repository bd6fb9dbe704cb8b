/*
 * fuzz_dashboard_health.c - the manager's dashboard reads bytes from the
 * services it probes and URLs from its config: any bytes as an answer
 * (dashboard_health_read_answer: status line, headers, Content-Length,
 * the body's JSON), and the same bytes as a service URL
 * (dashboard_url_parse).  Oracles: the result is one of the states with a
 * status only when HTTP was read, its detail printable and NUL-terminated;
 * a URL taken apart is http:// with a Host and a target starting with '/'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "manager/dashboard-config.h"
#include "manager/dashboard-health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > DASHBOARD_HEALTH_REPLY_MAX)
        size = DASHBOARD_HEALTH_REPLY_MAX; /* the probe never reads more */
    /* An exact-size copy: ASan sees any read past len. */
    char *reply = malloc(size ? size : 1);
    if (!reply)
        return 0;
    memcpy(reply, data, size);
    dashboard_health_result res;
    memset(&res, 0x5a, sizeof(res));
    dashboard_health_read_answer(reply, size, &res);
    if (memchr(res.detail, '\0', sizeof(res.detail)) == NULL)
        abort();
    for (const char *c = res.detail; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            abort();
    switch (res.state) {
    case DASHBOARD_HEALTH_UP:
        if (res.http_status < 200 || res.http_status > 299)
            abort();
        break;
    case DASHBOARD_HEALTH_DEGRADED:
        if (res.http_status < 100 || res.http_status > 599 || !res.detail[0])
            abort();
        break;
    case DASHBOARD_HEALTH_DOWN:
        if (res.http_status != 0 || !res.detail[0])
            abort();
        break;
    default:
        abort();
    }
    free(reply);

    char url[DASHBOARD_SERVICE_URL_MAX + 2];
    size_t n = size < sizeof(url) - 1 ? size : sizeof(url) - 1;
    memcpy(url, data, n);
    url[n] = '\0';
    dashboard_url u;
    hdm_err err;
    hdm_err_clear(&err);
    if (dashboard_url_parse(url, &u, &err) == 0) {
        if (strncasecmp(url, "http://", 7) != 0 || u.target[0] != '/' || !u.host[0] ||
            strlen(u.host) > strlen(url) || strlen(u.target) > strlen(url) + 1 ||
            (u.addr.ss_family != AF_INET && u.addr.ss_family != AF_INET6))
            abort();
    } else if (err.code != HDM_E_BAD_REQUEST || !err.msg[0]) {
        abort();
    }
    return 0;
}
