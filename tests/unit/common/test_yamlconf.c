/* test_yamlconf.c - YAML config files onto structs: nesting, types, ranges, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/yamlconf.h"

struct cfg {
    char *socket;
    int port;
    double keep_alive;
    bool debug;
    conf_strlist dirs;
    char *name;
};

static const conf_key keys[] = {
    {"server.socket", CONF_STRING, offsetof(struct cfg, socket), 0, 0},
    {"server.port", CONF_INT, offsetof(struct cfg, port), 1, 65535},
    {"models.keep_alive", CONF_DOUBLE, offsetof(struct cfg, keep_alive), -1, 86400},
    {"debug", CONF_BOOL, offsetof(struct cfg, debug), 0, 0},
    {"models.dirs", CONF_STRLIST, offsetof(struct cfg, dirs), 0, 0},
    {"name", CONF_STRING, offsetof(struct cfg, name), 0, 0},
    {NULL, 0, 0, 0, 0},
};

struct unknowns {
    int count;
    char last[128];
    int last_line;
};

static void on_unknown(void *user, const char *file, int line, const char *key)
{
    struct unknowns *u = user;
    (void)file;
    if (u == NULL)
        return;
    u->count++;
    u->last_line = line;
    snprintf(u->last, sizeof(u->last), "%s", key);
}

static int load(const char *text, struct cfg *c, struct unknowns *u, hdm_err *err)
{
    hdm_err_clear(err);
    return conf_load_string(text, strlen(text), "test.yaml", keys, c, on_unknown, u, err);
}

static void expect_fail(const char *text, const char *msg)
{
    struct cfg c = {0};
    struct unknowns u = {0};
    hdm_err err;
    int r = load(text, &c, &u, &err);
    if (r != -HDM_E_BAD_REQUEST)
        fail_msg("accepted:\n%s", text);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("got \"%s\", expected \"%s\"", err.msg, msg);
    conf_free(keys, &c);
}

static void test_full_file(void **state)
{
    (void)state;
    const char *text = "# device manager\n"
                       "server:\n"
                       "  socket: /run/hailo/device.sock\n"
                       "  port: 5099\n"
                       "models:\n"
                       "  keep_alive: 300.5\n"
                       "  dirs:\n"
                       "    - /usr/share/hailo-models\n"
                       "    - \"/var/lib/hailo models\"\n"
                       "debug: yes\n"
                       "name: 'quoted: value'\n";
    struct cfg c = {0};
    struct unknowns u = {0};
    hdm_err err;
    assert_int_equal(load(text, &c, &u, &err), 0);
    assert_string_equal(c.socket, "/run/hailo/device.sock");
    assert_int_equal(c.port, 5099);
    assert_true(c.keep_alive == 300.5);
    assert_true(c.debug);
    assert_int_equal(c.dirs.n, 2);
    assert_string_equal(c.dirs.items[0], "/usr/share/hailo-models");
    assert_string_equal(c.dirs.items[1], "/var/lib/hailo models");
    assert_string_equal(c.name, "quoted: value");
    assert_int_equal(u.count, 0);

    /* Loading again replaces values and frees the old ones (ASan checks the leaks). */
    assert_int_equal(load("server: {socket: /tmp/x.sock}\nmodels:\n  dirs: /one\n", &c, &u, &err),
                     0);
    assert_string_equal(c.socket, "/tmp/x.sock");
    assert_int_equal(c.dirs.n, 1);
    assert_string_equal(c.dirs.items[0], "/one");
    conf_free(keys, &c);
    assert_null(c.socket);
    assert_int_equal(c.dirs.n, 0);
}

static void test_unknown_keys_are_reported(void **state)
{
    (void)state;
    struct cfg c = {0};
    struct unknowns u = {0};
    hdm_err err;
    assert_int_equal(load("server:\n  port: 80\n  colour: blue\nextra:\n  - 1\n  - [2, 3]\n"
                          "deep:\n  er:\n    still: x\n",
                          &c, &u, &err),
                     0);
    assert_int_equal(u.count, 3);
    assert_string_equal(u.last, "deep.er.still");
    assert_int_equal(u.last_line, 9);
    assert_int_equal(c.port, 80);
    /* A NULL callback ignores them. */
    assert_int_equal(conf_load_string("zzz: 1\n", 7, "t", keys, &c, NULL, NULL, &err), 0);
    conf_free(keys, &c);
}

static void test_range_and_type_errors(void **state)
{
    (void)state;
    expect_fail("server:\n  port: 70000\n",
                "test.yaml:2: server.port must be an integer from 1 to 65535 (got \"70000\")");
    expect_fail("server:\n  port: 0\n",
                "test.yaml:2: server.port must be an integer from 1 to 65535 (got \"0\")");
    expect_fail("server:\n  port: 80x\n",
                "test.yaml:2: server.port must be an integer from 1 to 65535 (got \"80x\")");
    expect_fail("server:\n  port: 99999999999999999999999\n",
                "test.yaml:2: server.port must be an integer from 1 to 65535 (got "
                "\"99999999999999999999999\")");
    expect_fail("models:\n  keep_alive: 1e9\n",
                "test.yaml:2: models.keep_alive must be a number from -1 to 86400 (got \"1e9\")");
    expect_fail("models:\n  keep_alive: nan\n",
                "test.yaml:2: models.keep_alive must be a number from -1 to 86400 (got \"nan\")");
    expect_fail("debug: maybe\n", "test.yaml:1: debug must be true or false (got \"maybe\")");
    expect_fail("server:\n  port:\n    inner: 1\n",
                "test.yaml:3: server.port: expected a single value, got a mapping");
    expect_fail("server:\n  port: [1, 2]\n",
                "test.yaml:2: server.port: expected a single value, got a list");
    expect_fail("models:\n  dirs:\n    - a\n    - {b: c}\n",
                "test.yaml:4: models.dirs: list items must be single values");
    expect_fail("- a\n- b\n", "test.yaml:1: the top level must be a mapping of keys");
    expect_fail("name: \"a\\0b\"\n", "test.yaml:1: name: value contains a NUL byte");

    /* Without an hdm_err the code is still BAD_REQUEST. */
    struct cfg c = {0};
    assert_int_equal(conf_load_string("debug: maybe\n", 13, "t", keys, &c, NULL, NULL, NULL),
                     -HDM_E_BAD_REQUEST);
}

static void test_syntax_errors_have_lines(void **state)
{
    (void)state;
    struct cfg c = {0};
    hdm_err err;
    assert_int_equal(load("server:\n  port: 1\n  bad: [unclosed\n", &c, NULL, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(strncmp(err.msg, "test.yaml:", 10), 0);
    assert_int_equal(load("a: 1\n b: 2\n\tc: 3\n", &c, NULL, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(strncmp(err.msg, "test.yaml:", 10), 0);
    assert_int_equal(load("a: 1\n---\nb: 2\n", &c, NULL, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "test.yaml:2: only one YAML document is allowed");
    conf_free(keys, &c);
}

static void test_aliases_rejected(void **state)
{
    (void)state;
    expect_fail("name: &n hello\nserver:\n  socket: *n\n",
                "test.yaml:3: aliases (*n) are not supported in config files");
    /* The classic expansion bomb never gets past its first alias. */
    expect_fail("a: &a [x, x, x, x, x, x, x, x, x]\n"
                "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
                "test.yaml:2: aliases (*a) are not supported in config files");
    /* Anchors alone are harmless. */
    struct cfg c = {0};
    hdm_err err;
    assert_int_equal(load("name: &n hello\n", &c, NULL, &err), 0);
    assert_string_equal(c.name, "hello");
    conf_free(keys, &c);
}

static void test_empty_and_null(void **state)
{
    (void)state;
    struct cfg c = {.port = 7};
    hdm_err err;
    assert_int_equal(load("", &c, NULL, &err), 0);
    assert_int_equal(load("# only a comment\n", &c, NULL, &err), 0);
    assert_int_equal(load("---\n", &c, NULL, &err), 0);
    assert_int_equal(c.port, 7);
    /* Null in any spelling leaves every type of key at its default. */
    c.name = strdup("default name");
    c.socket = strdup("/run/default.sock");
    c.keep_alive = 300;
    c.debug = true;
    c.dirs.items = calloc(1, sizeof(char *));
    c.dirs.items[0] = strdup("/default/dir");
    c.dirs.n = 1;
    static const char *const nulls[] = {"", " null", " ~", " Null", " NULL"};
    for (size_t i = 0; i < 5; i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "name:%s\nserver:\n  socket:%s\n  port:%s\nmodels:\n  keep_alive:%s\n"
                 "  dirs:%s\ndebug:%s\n",
                 nulls[i], nulls[i], nulls[i], nulls[i], nulls[i], nulls[i]);
        struct unknowns u = {0};
        assert_int_equal(load(text, &c, &u, &err), 0);
        assert_int_equal(u.count, 0);
        assert_string_equal(c.name, "default name");
        assert_string_equal(c.socket, "/run/default.sock");
        assert_int_equal(c.port, 7);
        assert_true(c.keep_alive == 300);
        assert_true(c.debug);
        assert_int_equal(c.dirs.n, 1);
        assert_string_equal(c.dirs.items[0], "/default/dir");
    }
    /* A null section, and a list with a null item in it. */
    struct unknowns u = {0};
    assert_int_equal(load("server:\nmodels: ~\n", &c, &u, &err), 0);
    assert_int_equal(u.count, 0);
    assert_int_equal(load("models:\n  dirs: [/a, ~, /b]\n", &c, &u, &err), 0);
    assert_int_equal(c.dirs.n, 2);
    assert_string_equal(c.dirs.items[1], "/b");
    /* An explicitly empty list or string is a value, not null. */
    assert_int_equal(load("models:\n  dirs: []\nname: \"\"\n", &c, &u, &err), 0);
    assert_int_equal(c.dirs.n, 0);
    assert_string_equal(c.name, "");
    /* Quoted "null" is a string: an error for a number. */
    assert_int_equal(load("server:\n  port: \"null\"\n", &c, &u, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(
        err.msg, "test.yaml:2: server.port must be an integer from 1 to 65535 (got \"null\")");
    conf_free(keys, &c);
}

/* A file laid out like the original Python services' config.yaml: comments,
 * quoted strings, nulls, keys this program does not know (reported with their
 * line, never fatal), lists of mappings. */
static void test_original_style_file(void **state)
{
    (void)state;
    const char *text = "server:\n"
                       "  host: 0.0.0.0\n"
                       "  port: 11435\n"
                       "\n"
                       "model:\n"
                       "  # a comment\n"
                       "  name: \"qwen2-vl-2b-instruct\"\n"
                       "  hef_path: null\n"
                       "  keep_alive: -1\n"
                       "generation:\n"
                       "  temperature: 0.7\n"
                       "  seed: null  # null = random\n"
                       "resource_limits:\n"
                       "  memory_max: \"4G\"\n"
                       "debug: False\n"
                       "profiles:\n"
                       "  - name: a\n"
                       "    value: 1\n";
    struct cfg c = {.port = 1, .keep_alive = 5};
    struct unknowns u = {0};
    hdm_err err;
    assert_int_equal(load(text, &c, &u, &err), 0);
    assert_int_equal(c.port, 11435);
    assert_false(c.debug);
    /* server.host, model.name, model.hef_path, model.keep_alive, generation.temperature,
     * generation.seed, resource_limits.memory_max, profiles. */
    assert_int_equal(u.count, 8);
    assert_string_equal(u.last, "profiles");
    assert_int_equal(u.last_line, 17);
    conf_free(keys, &c);
}

static void test_bool_spellings(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "True", "yes", "on", "1"};
    static const char *const no[] = {"false", "FALSE", "no", "off", "0"};
    struct cfg c = {0};
    hdm_err err;
    char text[64];
    for (int i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "debug: %s\n", yes[i]);
        assert_int_equal(load(text, &c, NULL, &err), 0);
        assert_true(c.debug);
        snprintf(text, sizeof(text), "debug: %s\n", no[i]);
        assert_int_equal(load(text, &c, NULL, &err), 0);
        assert_false(c.debug);
    }
}

static void test_conf_set(void **state)
{
    (void)state;
    struct cfg c = {0};
    hdm_err err;
    assert_int_equal(conf_set(keys, &c, "server.port", "8080", &err), 0);
    assert_int_equal(c.port, 8080);
    assert_int_equal(conf_set(keys, &c, "server.port", "-3", &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "server.port must be an integer from 1 to 65535 (got \"-3\")");
    assert_int_equal(conf_set(keys, &c, "nope", "1", &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "unknown config key: nope");
    assert_int_equal(conf_set(keys, &c, "models.dirs", "/a,,/b", &err), 0);
    assert_int_equal(c.dirs.n, 2);
    assert_string_equal(c.dirs.items[1], "/b");
    assert_int_equal(conf_set(keys, &c, "name", "x", &err), 0);
    assert_int_equal(conf_set(keys, &c, "name", "y", &err), 0);
    assert_string_equal(c.name, "y");
    assert_int_equal(conf_set(keys, &c, "debug", "on", &err), 0);
    assert_true(c.debug);
    conf_free(keys, &c);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/hdm-test-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "server:\n  port: 1234\n  port_typo: 1\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct cfg c = {0};
    struct unknowns u = {0};
    hdm_err err;
    assert_int_equal(conf_load_file(path, keys, &c, on_unknown, &u, &err), 0);
    assert_int_equal(c.port, 1234);
    assert_int_equal(u.count, 1);
    assert_int_equal(u.last_line, 3);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "server:\n  port: 0\n", 18), 18);
    close(fd);
    assert_int_equal(conf_load_file(path, keys, &c, NULL, NULL, &err), -HDM_E_BAD_REQUEST);
    char want[256];
    snprintf(want, sizeof(want), "%s:2: server.port must be an integer from 1 to 65535 (got \"0\")",
             path);
    assert_string_equal(err.msg, want);
    unlink(path);

    assert_int_equal(conf_load_file(path, keys, &c, NULL, NULL, &err), -HDM_E_NOT_FOUND);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    assert_string_equal(err.msg, want);
    conf_free(keys, &c);
}

static void test_deep_nesting_refused(void **state)
{
    (void)state;
    char text[4096];
    size_t at = 0;
    for (int i = 0; i < 40; i++)
        at += (size_t)snprintf(text + at, sizeof(text) - at, "{a: ");
    at += (size_t)snprintf(text + at, sizeof(text) - at, "1");
    for (int i = 0; i < 40; i++)
        at += (size_t)snprintf(text + at, sizeof(text) - at, "}");
    struct cfg c = {0};
    hdm_err err;
    assert_int_equal(load(text, &c, NULL, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "nest too deeply"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_unknown_keys_are_reported),
        cmocka_unit_test(test_range_and_type_errors),
        cmocka_unit_test(test_syntax_errors_have_lines),
        cmocka_unit_test(test_aliases_rejected),
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_original_style_file),
        cmocka_unit_test(test_bool_spellings),
        cmocka_unit_test(test_conf_set),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_deep_nesting_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
