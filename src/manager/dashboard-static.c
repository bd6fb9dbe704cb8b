/*
 * dashboard-static.c - the page's files: URL list, install directory, reads
 * with ETags.
 */
#include "manager/dashboard-static.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hash.h"

static const dashboard_file files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/dashboard.css", "dashboard.css", "text/css; charset=utf-8"},
    {"/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"},
    {"/favicon.svg", "favicon.svg", "image/svg+xml"},
};

const dashboard_file *dashboard_static_find(const char *url)
{
    if (!url)
        return NULL;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (strcmp(files[i].url, url) == 0)
            return &files[i];
    return NULL;
}

const dashboard_file *dashboard_static_files(size_t *n)
{
    *n = sizeof(files) / sizeof(files[0]);
    return files;
}

#define INSTALL_SUBDIR "/share/hailo-ai-services/dashboard"

char *dashboard_static_dir(const char *configured)
{
    if (configured && *configured)
        return strdup(configured);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    /* A program replaced on disk while running (an upgrade) reads so. */
    static const char deleted[] = " (deleted)";
    size_t len = (size_t)n;
    if (len > sizeof(deleted) - 1 && strcmp(exe + len - (sizeof(deleted) - 1), deleted) == 0)
        exe[len - (sizeof(deleted) - 1)] = '\0';
    /* PREFIX/bin/program -> PREFIX */
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash)
            return NULL;
        *slash = '\0';
    }
    size_t need = strlen(exe) + sizeof(INSTALL_SUBDIR);
    char *dir = malloc(need);
    if (dir)
        snprintf(dir, need, "%s%s", exe, INSTALL_SUBDIR);
    return dir;
}

/* One entity tag of the list: skips blanks and commas; returns its start and
 * length (W/ prefix dropped), or NULL at the end. */
static const char *next_tag(const char **p, size_t *len)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (*s == '\0')
        return NULL;
    if (s[0] == 'W' && s[1] == '/')
        s += 2;
    const char *start = s;
    if (*s == '"') {
        const char *close = strchr(s + 1, '"');
        s = close ? close + 1 : s + strlen(s);
    } else {
        while (*s && *s != ',' && *s != ' ' && *s != '\t')
            s++;
    }
    *len = (size_t)(s - start);
    *p = s;
    return start;
}

bool dashboard_etag_matches(const char *header, const char *etag)
{
    if (!header || !etag)
        return false;
    const char *p = header;
    size_t elen = strlen(etag), len;
    const char *tag;
    while ((tag = next_tag(&p, &len)) != NULL) {
        if (len == 1 && tag[0] == '*')
            return true;
        if (len == elen && memcmp(tag, etag, len) == 0)
            return true;
    }
    return false;
}

/* Reads the whole regular file fd of `size` bytes into a new buffer. */
static int read_all(int fd, size_t size, char **out, hdm_err *err)
{
    char *data = malloc(size ? size : 1);
    if (!data)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            free(data);
            return hdm_err_set(err, HDM_E_INTERNAL, "cannot read a dashboard file: %s",
                               e ? strerror(e) : "it became shorter while being read");
        }
        got += (size_t)r;
    }
    *out = data;
    return 0;
}

int dashboard_static_load(const path_allowlist *dir, const dashboard_file *f,
                          const char *if_none_match, dashboard_static_reply *out, hdm_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!dir || dir->n != 1 || !f)
        return hdm_err_set(err, HDM_E_INTERNAL, "dashboard directory not set");
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir->dirs[0], f->name) >= (int)sizeof(path))
        return hdm_err_set(err, HDM_E_NOT_FOUND, "the dashboard directory path is too long");

    path_file pf = {.fd = -1};
    enum path_refusal why = PATH_REFUSED_NONE;
    hdm_err sub;
    hdm_err_clear(&sub);
    int rc = path_open_allowed(dir, path, "dashboard file", 0, &pf, &why, &sub);
    if (rc < 0) {
        if (why == PATH_REFUSED_SYSTEM)
            return hdm_err_set(err, sub.code, "%s", sub.msg);
        return hdm_err_set(err, HDM_E_NOT_FOUND,
                           "the dashboard file %s is not installed in %s (%s)", f->name,
                           dir->dirs[0], sub.msg);
    }
    if (pf.st.st_size < 0 || (unsigned long long)pf.st.st_size > DASHBOARD_STATIC_MAX_BYTES) {
        path_file_close(&pf);
        return hdm_err_set(err, HDM_E_TOO_LARGE, "the dashboard file %s is larger than %d bytes",
                           f->name, DASHBOARD_STATIC_MAX_BYTES);
    }
    char *data = NULL;
    size_t size = (size_t)pf.st.st_size;
    rc = read_all(pf.fd, size, &data, err);
    path_file_close(&pf);
    if (rc < 0)
        return rc;
    uint64_t h = hash_fnv1a(HASH_FNV1A_SEED, data, size);
    snprintf(out->etag, sizeof(out->etag), "\"%016llx\"", (unsigned long long)h);
    out->type = f->type;
    if (dashboard_etag_matches(if_none_match, out->etag)) {
        free(data);
        out->status = 304;
        return 0;
    }
    out->status = 200;
    out->body = data;
    out->len = size;
    return 0;
}

void dashboard_static_reply_free(dashboard_static_reply *out)
{
    if (!out)
        return;
    free(out->body);
    out->body = NULL;
    out->len = 0;
}
