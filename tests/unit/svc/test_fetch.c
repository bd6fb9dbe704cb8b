/*
 * test_fetch.c - the shared image-URL fetcher (svc/fetch.h): file:// only
 * beneath the directories with one answer for missing and outside files,
 * http(s):// only when enabled and only to allowed addresses (redirects
 * too), byte limits, and the config keys the sentences name.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "svc/fetch.h"

/* ---- a tiny HTTP server on 127.0.0.x -------------------------------------------- */

typedef struct server {
    int fd, port;
    pthread_t thread;
    const char *response; /* sent as is to each connection */
    atomic_int accepted;
    atomic_bool stop;
} server;

static void *serve(void *arg)
{
    server *s = arg;
    while (!atomic_load(&s->stop)) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        if (atomic_load(&s->stop)) {
            close(c);
            break;
        }
        atomic_fetch_add(&s->accepted, 1);
        char req[4096];
        size_t got = 0;
        while (got < sizeof(req) - 1) {
            ssize_t n = read(c, req + got, sizeof(req) - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        size_t len = strlen(s->response), off = 0;
        while (off < len) {
            ssize_t n = write(c, s->response + off, len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        close(c);
    }
    return NULL;
}

static void server_start(server *s, const char *ip, const char *response)
{
    memset(s, 0, sizeof(*s));
    s->response = response;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s->fd, 8), 0);
    socklen_t sl = sizeof(sa);
    getsockname(s->fd, (struct sockaddr *)&sa, &sl);
    s->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
    atomic_store(&s->stop, true);
    shutdown(s->fd, SHUT_RDWR);
    /* Wake accept() in case shutdown did not. */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    socklen_t sl = sizeof(sa);
    getsockname(s->fd, (struct sockaddr *)&sa, &sl);
    connect(c, (struct sockaddr *)&sa, sizeof(sa));
    close(c);
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* ---- files ------------------------------------------------------------------------- */

typedef struct tree {
    char root[64], allowed[128], outside[128];
} tree;

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int setup(void **state)
{
    tree *t = calloc(1, sizeof(*t));
    strcpy(t->root, "/tmp/hdm-fetch-XXXXXX");
    assert_non_null(mkdtemp(t->root));
    snprintf(t->allowed, sizeof(t->allowed), "%s/allowed", t->root);
    snprintf(t->outside, sizeof(t->outside), "%s/outside", t->root);
    mkdir(t->allowed, 0755);
    mkdir(t->outside, 0755);
    char p[256], q[256];
    snprintf(p, sizeof(p), "%s/img.bin", t->allowed);
    write_file(p, "0123456789", 10);
    snprintf(p, sizeof(p), "%s/big.bin", t->allowed);
    write_file(p, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
    snprintf(p, sizeof(p), "%s/secret.bin", t->outside);
    write_file(p, "secret", 6);
    snprintf(p, sizeof(p), "%s/link.bin", t->allowed);
    snprintf(q, sizeof(q), "%s/secret.bin", t->outside);
    assert_int_equal(symlink(q, p), 0);
    snprintf(p, sizeof(p), "%s/sub", t->allowed);
    mkdir(p, 0755);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tree *t = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
    assert_int_equal(system(cmd), 0);
    free(t);
    return 0;
}

static void init_fetch(svc_fetch *f, const tree *t, bool remote, const char *nets)
{
    static char *dirs[1];
    static conf_strlist dl, nl;
    static char *net_items[1];
    dirs[0] = (char *)t->allowed;
    dl = (conf_strlist){.items = dirs, .n = 1};
    net_items[0] = (char *)nets;
    nl = (conf_strlist){.items = net_items, .n = nets ? 1 : 0};
    const svc_fetch_opts o = {
        .allowed_dirs = &dl,
        .allow_remote = remote,
        .allowed_networks = &nl,
        .max_bytes = 20,
        .timeout_ms = 5000,
        .dirs_key = "input.allowed_dirs",
        .remote_key = "input.allow_image_url",
        .networks_key = "input.remote_allowed_networks",
        .remote_hint = "send the image itself",
    };
    hdm_err err = {0};
    assert_int_equal(svc_fetch_init(f, &o, &err), 0);
}

static int fetch_file(const svc_fetch *f, const char *url, buf *out, hdm_err *err)
{
    out->len = 0;
    hdm_err_clear(err);
    return svc_fetch_file(f, url, "image_url", out, err);
}

static void test_file_inside(void **state)
{
    tree *t = *state;
    svc_fetch f;
    init_fetch(&f, t, false, NULL);
    buf out = {0};
    hdm_err err;
    char url[300];
    snprintf(url, sizeof(url), "file://%s/img.bin", t->allowed);
    assert_int_equal(fetch_file(&f, url, &out, &err), 0);
    assert_int_equal(out.len, 10);
    assert_memory_equal(out.data, "0123456789", 10);
    /* localhost form and %-escapes */
    snprintf(url, sizeof(url), "file://localhost%s/im%%67.bin", t->allowed);
    assert_int_equal(fetch_file(&f, url, &out, &err), 0);
    assert_int_equal(out.len, 10);
    /* appends after what the buffer held */
    buf_append(&out, "xy", 2);
    size_t before = out.len;
    snprintf(url, sizeof(url), "file://%s/img.bin", t->allowed);
    assert_int_equal(svc_fetch_file(&f, url, NULL, &out, &err), 0);
    assert_int_equal(out.len, before + 10);
    assert_memory_equal(out.data + before, "0123456789", 10);
    buf_free(&out);
    svc_fetch_free(&f);
}

static void test_file_refused(void **state)
{
    tree *t = *state;
    svc_fetch f;
    init_fetch(&f, t, false, NULL);
    buf out = {0};
    hdm_err err;
    char url[300];
    /* Outside, missing, through a symlink, "..", a directory: one answer. */
    const char *const paths[] = {"%s/../outside/secret.bin", "%s/missing.bin", "%s/link.bin",
                                 "%s/sub", "%s/%%2e%%2e/outside/secret.bin"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), paths[i], t->allowed);
        snprintf(url, sizeof(url), "file://%s", path);
        assert_int_equal(fetch_file(&f, url, &out, &err), -HDM_E_BAD_REQUEST);
        assert_non_null(strstr(err.msg, "image_url: no readable image file"));
        assert_non_null(strstr(err.msg, "inside input.allowed_dirs"));
        assert_int_equal(out.len, 0);
    }
    snprintf(url, sizeof(url), "file://%s/secret.bin", t->outside);
    assert_int_equal(fetch_file(&f, url, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(fetch_file(&f, "file://relative/x.png", &out, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "image_url: file URL must be file:///absolute/path");
    snprintf(url, sizeof(url), "file://%s/img%%00.bin", t->allowed);
    assert_int_equal(fetch_file(&f, url, &out, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "image_url: bad %-escape in file URL");
    snprintf(url, sizeof(url), "file://%s/big.bin", t->allowed);
    assert_int_equal(fetch_file(&f, url, &out, &err), -HDM_E_TOO_LARGE);
    assert_int_equal(out.len, 0);
    buf_free(&out);
    svc_fetch_free(&f);

    /* No directories: file:// is off, and the sentence names the key. */
    static conf_strlist empty;
    const svc_fetch_opts o = {.allowed_dirs = &empty,
                              .max_bytes = 20,
                              .timeout_ms = 1000,
                              .dirs_key = "images.allowed_dirs"};
    assert_int_equal(svc_fetch_init(&f, &o, &err), 0);
    snprintf(url, sizeof(url), "file://%s/img.bin", t->allowed);
    assert_int_equal(svc_fetch_file(&f, url, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "image files are disabled: list the directories they may come "
                                 "from in images.allowed_dirs");
    assert_int_equal(svc_fetch_path(&f, url + 7, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "image files are disabled: list the directories they may come "
                                 "from in images.allowed_dirs");
    svc_fetch_free(&f);
}

static void test_remote_disabled(void **state)
{
    tree *t = *state;
    svc_fetch f;
    init_fetch(&f, t, false, NULL);
    buf out = {0};
    hdm_err err = {0};
    assert_int_equal(svc_fetch_remote(&f, "http://example.com/a.png", "image_url", &out, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "image_url: remote image URLs are disabled "
                                 "(input.allow_image_url is off); send the image itself");
    svc_fetch_free(&f);
    assert_true(svc_fetch_is_remote_url("HTTPS://x"));
    assert_true(svc_fetch_is_file_url("File:///x"));
    assert_false(svc_fetch_is_remote_url("ftp://x"));
}

static void test_remote_policy(void **state)
{
    tree *t = *state;
    server ok, other;
    server_start(&ok, "127.0.0.1",
                 "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    server_start(&other, "127.0.0.2",
                 "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nother");
    char url[128];
    buf out = {0};
    hdm_err err = {0};
    svc_fetch f;

    /* Loopback is not public: refused before connecting. */
    init_fetch(&f, t, true, NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/a.png", ok.port);
    assert_int_equal(svc_fetch_remote(&f, url, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "cannot fetch the image URL");
    assert_int_equal(atomic_load(&ok.accepted), 0);
    svc_fetch_free(&f);

    /* Allowed by the operator's block. */
    init_fetch(&f, t, true, "127.0.0.1/32");
    assert_int_equal(svc_fetch_remote(&f, url, NULL, &out, &err), 0);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.data, "hello", 5);
    /* 127.0.0.2 is outside the block: refused, never connected. */
    out.len = 0;
    snprintf(url, sizeof(url), "http://127.0.0.2:%d/a.png", other.port);
    assert_int_equal(svc_fetch_remote(&f, url, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(atomic_load(&other.accepted), 0);
    assert_int_equal(out.len, 0);
    svc_fetch_free(&f);
    server_stop(&ok);

    /* A redirect from an allowed address to a refused one is refused too. */
    char redirect[256];
    snprintf(redirect, sizeof(redirect),
             "HTTP/1.0 302 Found\r\nLocation: http://127.0.0.2:%d/x\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n",
             other.port);
    server_start(&ok, "127.0.0.1", redirect);
    init_fetch(&f, t, true, "127.0.0.1/32");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/a.png", ok.port);
    assert_int_equal(svc_fetch_remote(&f, url, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(atomic_load(&ok.accepted), 1);
    assert_int_equal(atomic_load(&other.accepted), 0);
    svc_fetch_free(&f);
    server_stop(&ok);

    /* Over max_bytes (20), and an HTTP error: limits and one answer. */
    server_start(&ok, "127.0.0.1",
                 "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n0123456789012345678901234567890");
    init_fetch(&f, t, true, "127.0.0.1/32");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/a.png", ok.port);
    assert_int_equal(svc_fetch_remote(&f, url, "image_url", &out, &err), -HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "image_url: remote image is larger than 20 bytes");
    assert_int_equal(out.len, 0);
    svc_fetch_free(&f);
    server_stop(&ok);
    server_start(&ok, "127.0.0.1", "HTTP/1.0 404 Not Found\r\nConnection: close\r\n\r\n");
    init_fetch(&f, t, true, "127.0.0.1/32");
    assert_int_equal(svc_fetch_remote(&f, url, "image_url", &out, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "image_url: cannot fetch the image URL");
    svc_fetch_free(&f);
    server_stop(&ok);
    server_stop(&other);
    buf_free(&out);
}

static void test_bad_network(void **state)
{
    (void)state;
    char *items[1] = {"not-a-block"};
    conf_strlist nl = {.items = items, .n = 1};
    const svc_fetch_opts o = {.allowed_networks = &nl, .networks_key = "x.nets"};
    svc_fetch f;
    hdm_err err = {0};
    assert_int_equal(svc_fetch_init(&f, &o, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "x.nets"));
    svc_fetch_free(&f);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_policy, setup, teardown),
        cmocka_unit_test(test_bad_network),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
