/*
 * test_config.c - the manager's settings table (src/manager/config.c):
 * defaults, the file / environment / flag layers and their order, the
 * original manager's spellings (--socket-path, 0o660, bare ports), the
 * lanes setting (parallel_genai), the dashboard's settings and the status
 * server's token, and the "file:line: message" and
 * "WHERE: message" error texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>

#include "manager/config.h"

static const char *const env_names[] = {
    "HAILO_DEVICE_SOCKET",
    "HAILO_DEVICE_SOCKET_MODE",
    "HAILO_DEVICE_SOCKET_GROUP",
    "HAILO_DEVICE_HTTP_BIND",
    "HAILO_DEVICE_MODEL_DIRS",
    "HAILO_DEVICE_GROUP_ID",
    "HAILO_DEVICE_MAX_MESSAGE_BYTES",
    "HAILO_DEVICE_MAX_EVICTIONS",
    "HAILO_DEVICE_PARALLEL_GENAI",
    "HAILO_DEVICE_HTTP_TOKEN",
    "HAILO_DEVICE_DASHBOARD_SERVICES",
    "HAILO_DEVICE_DASHBOARD_DIR",
};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
        unsetenv(env_names[i]);
    return 0;
}

/* Writes text to a temporary file; returns its path (static buffer). */
static const char *write_yaml(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/hdm-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int load(manager_config *cfg, hdm_err *err, int argc, const char **argv)
{
    hdm_err_clear(err);
    return config_load(cfg, argc, (char **)argv, err);
}

static void test_defaults(void **state)
{
    (void)state;
    manager_config cfg;
    hdm_err err;
    const char *argv[] = {"hdm"};
    assert_int_equal(load(&cfg, &err, 1, argv), 0);
    assert_string_equal(cfg.socket_path, CONFIG_DEFAULT_SOCKET);
    assert_string_equal(cfg.http_bind, CONFIG_DEFAULT_HTTP_BIND);
    assert_string_equal(cfg.model_dirs, CONFIG_DEFAULT_MODEL_DIRS);
    /* The original services' model trees are allowed by default (issue 15 item 1). */
    static const char *const original[] = {"/var/lib/hailo-vision", "/var/lib/hailo-whisper",
                                           "/var/lib/hailo-ocr", "/var/lib/hailo-depth",
                                           "/var/lib/hailo-pose"};
    for (size_t i = 0; i < sizeof(original) / sizeof(original[0]); i++)
        assert_non_null(strstr(cfg.model_dirs, original[i]));
    assert_string_equal(cfg.backend, "auto");
    assert_int_equal(cfg.socket_mode, 0660);
    assert_int_equal(cfg.max_message_bytes, 64u << 20);
    assert_int_equal(cfg.reg.max_evictions, 3);
    assert_int_equal(cfg.sched.max_queue, 256);
    /* Resident until memory is needed, as the original manager kept models. */
    assert_true(isinf(cfg.reg.default_keep_alive));
    config_free(&cfg);
}

static void test_layers_in_order(void **state)
{
    (void)state;
    const char *path = write_yaml("socket: /tmp/file.sock\n"
                                  "max_message_bytes: 2048\n"
                                  "scheduler:\n  max_queue: 7\n  mode: fifo\n"
                                  "registry:\n  max_evictions: 5\n"
                                  "model_dirs:\n  - /a\n  - /b\n");
    setenv("HAILO_DEVICE_SOCKET", "/tmp/env.sock", 1);
    setenv("HAILO_DEVICE_MAX_EVICTIONS", "9", 1);
    manager_config cfg;
    hdm_err err;
    const char *argv[] = {"hdm", "--config", path, "--scheduler", "fair"};
    assert_int_equal(load(&cfg, &err, 5, argv), 0);
    assert_string_equal(cfg.socket_path, "/tmp/env.sock"); /* env over file */
    assert_int_equal(cfg.max_message_bytes, 2048);         /* file over default */
    assert_int_equal(cfg.sched.max_queue, 7);
    assert_int_equal(cfg.sched.mode, SCHED_FAIR); /* flag over file */
    assert_int_equal(cfg.reg.max_evictions, 9);
    assert_string_equal(cfg.model_dirs, "/a:/b");
    config_free(&cfg);

    const char *argv2[] = {"hdm", "--config", path, "--socket", "/tmp/flag.sock"};
    assert_int_equal(load(&cfg, &err, 5, argv2), 0);
    assert_string_equal(cfg.socket_path, "/tmp/flag.sock"); /* flag over env */
    config_free(&cfg);
    unlink(path);
}

static void test_original_spellings(void **state)
{
    (void)state;
    manager_config cfg;
    hdm_err err;
    /* The original's flag, and its device-manager.env values. */
    setenv("HAILO_DEVICE_SOCKET_MODE", "0o640", 1);
    setenv("HAILO_DEVICE_SOCKET_GROUP", "video", 1);
    setenv("HAILO_DEVICE_MAX_MESSAGE_BYTES", "0x100000", 1);
    setenv("HAILO_DEVICE_HTTP_BIND", "5100", 1);
    const char *argv[] = {"hdm", "--socket-path", "/tmp/orig.sock"};
    assert_int_equal(load(&cfg, &err, 3, argv), 0);
    assert_string_equal(cfg.socket_path, "/tmp/orig.sock");
    assert_int_equal(cfg.socket_mode, 0640);
    assert_string_equal(cfg.socket_group, "video");
    assert_int_equal(cfg.max_message_bytes, 1u << 20);
    assert_string_equal(cfg.http_bind, "127.0.0.1:5100");
    config_free(&cfg);

    static const char *const off[] = {"off", "0", "false", "None", "disabled", ""};
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        setenv("HAILO_DEVICE_HTTP_BIND", off[i], 1);
        assert_int_equal(load(&cfg, &err, 1, argv), 0);
        assert_null(cfg.http_bind);
        config_free(&cfg);
    }
}

static void test_error_texts(void **state)
{
    (void)state;
    manager_config cfg;
    hdm_err err;
    const char *argv[] = {"hdm"};

    setenv("HAILO_DEVICE_MAX_MESSAGE_BYTES", "12", 1);
    assert_true(load(&cfg, &err, 1, argv) < 0);
    assert_string_equal(err.msg, "HAILO_DEVICE_MAX_MESSAGE_BYTES: '12' is not a number of bytes "
                                 "between 1024 and 2147483647");
    config_free(&cfg);
    unsetenv("HAILO_DEVICE_MAX_MESSAGE_BYTES");

    setenv("HAILO_DEVICE_MAX_EVICTIONS", "lots", 1);
    assert_true(load(&cfg, &err, 1, argv) < 0);
    assert_string_equal(err.msg, "HAILO_DEVICE_MAX_EVICTIONS: 'lots' is not a number 0..1000");
    config_free(&cfg);
    unsetenv("HAILO_DEVICE_MAX_EVICTIONS");

    const char *argv2[] = {"hdm", "--backend", "npu"};
    assert_true(load(&cfg, &err, 3, argv2) < 0);
    assert_string_equal(err.msg, "--backend: unknown backend 'npu' (auto, hailort, sim)");
    config_free(&cfg);

    const char *path = write_yaml("log_level: info\nscheduler:\n  mode: lottery\n");
    const char *argv3[] = {"hdm", "--config", path};
    assert_true(load(&cfg, &err, 3, argv3) < 0);
    char want[256];
    snprintf(want, sizeof(want),
             "%s:3: scheduler.mode: unknown scheduler mode 'lottery' (fair, "
             "fifo)",
             path);
    assert_string_equal(err.msg, want);
    config_free(&cfg);
    unlink(path);

    path = write_yaml("scheduler:\n  max_queue: 0\n");
    const char *argv4[] = {"hdm", "--config", path};
    assert_true(load(&cfg, &err, 3, argv4) < 0);
    snprintf(want, sizeof(want), "%s:2: scheduler.max_queue must be an integer from 1 to 1000000",
             path);
    assert_memory_equal(err.msg, want, strlen(want));
    config_free(&cfg);
    unlink(path);

    path = write_yaml("registry:\n  default_keep_alive: soon\n");
    const char *argv6[] = {"hdm", "--config", path};
    assert_true(load(&cfg, &err, 3, argv6) < 0);
    snprintf(want, sizeof(want), "%s:2: registry.default_keep_alive: 'soon' must be none", path);
    assert_memory_equal(err.msg, want, strlen(want));
    config_free(&cfg);
    unlink(path);
    path = write_yaml("registry:\n  default_keep_alive: 120\n");
    assert_int_equal(load(&cfg, &err, 3, argv6), 0);
    assert_true(cfg.reg.default_keep_alive == 120);
    config_free(&cfg);
    unlink(path);

    const char *argv5[] = {"hdm", "--bogus"};
    assert_true(load(&cfg, &err, 2, argv5) < 0);
    assert_string_equal(err.msg, "unknown option '--bogus' (see --help)");
    config_free(&cfg);
}

/* parallel_genai: auto by default; file, environment and flag in their
 * order; YAML's booleans mean on/off; anything else is named. */
static void test_parallel_genai(void **state)
{
    (void)state;
    manager_config cfg;
    hdm_err err;
    const char *plain[] = {"hdm"};
    assert_int_equal(load(&cfg, &err, 1, plain), 0);
    assert_int_equal(cfg.parallel_genai, CONFIG_PARALLEL_AUTO);
    config_free(&cfg);

    const char *path = write_yaml("parallel_genai: off\n");
    const char *file[] = {"hdm", "--config", path};
    assert_int_equal(load(&cfg, &err, 3, file), 0);
    assert_int_equal(cfg.parallel_genai, CONFIG_PARALLEL_OFF);
    config_free(&cfg);

    setenv("HAILO_DEVICE_PARALLEL_GENAI", "true", 1);
    assert_int_equal(load(&cfg, &err, 3, file), 0);
    assert_int_equal(cfg.parallel_genai, CONFIG_PARALLEL_ON); /* environment over file */
    config_free(&cfg);

    const char *flag[] = {"hdm", "--config", path, "--parallel-genai", "auto"};
    assert_int_equal(load(&cfg, &err, 5, flag), 0);
    assert_int_equal(cfg.parallel_genai, CONFIG_PARALLEL_AUTO); /* flag over both */
    config_free(&cfg);
    unsetenv("HAILO_DEVICE_PARALLEL_GENAI");
    unlink(path);

    path = write_yaml("log_level: info\nparallel_genai: sometimes\n");
    const char *bad[] = {"hdm", "--config", path};
    assert_true(load(&cfg, &err, 3, bad) < 0);
    assert_non_null(strstr(err.msg, ":2:"));
    assert_non_null(strstr(err.msg, "'sometimes' is not auto, on or off"));
    config_free(&cfg);
    unlink(path);
}

static void test_dashboard_settings(void **state)
{
    (void)state;
    manager_config cfg;
    hdm_err err;
    const char *argv[] = {"hdm"};
    assert_int_equal(load(&cfg, &err, 1, argv), 0);
    assert_int_equal(cfg.dashboard.interval_ms, DASHBOARD_DEFAULT_INTERVAL_MS);
    assert_int_equal(cfg.dashboard.n_services, 7);
    assert_null(cfg.http_token);
    config_free(&cfg);

    const char *path = write_yaml("http_bearer_token: t0k\n"
                                  "dashboard:\n"
                                  "  dir: /opt/page\n"
                                  "  interval_ms: 500\n"
                                  "  health_timeout_ms: 200\n"
                                  "  services:\n"
                                  "    - one=http://127.0.0.1:1/health\n"
                                  "    - two=http://[::1]:8080/h\n");
    const char *argv2[] = {"hdm", "--config", path};
    assert_int_equal(load(&cfg, &err, 3, argv2), 0);
    assert_string_equal(cfg.http_token, "t0k");
    assert_string_equal(cfg.dashboard.dir, "/opt/page");
    assert_int_equal(cfg.dashboard.interval_ms, 500);
    assert_int_equal(cfg.dashboard.health_timeout_ms, 200);
    assert_int_equal(cfg.dashboard.n_services, 2);
    assert_string_equal(cfg.dashboard.services[1].name, "two");
    config_free(&cfg);

    /* The environment wins over the file. */
    setenv("HAILO_DEVICE_DASHBOARD_SERVICES", "none", 1);
    setenv("HAILO_DEVICE_HTTP_TOKEN", "env-token", 1);
    assert_int_equal(load(&cfg, &err, 3, argv2), 0);
    assert_int_equal(cfg.dashboard.n_services, 0);
    assert_string_equal(cfg.http_token, "env-token");
    config_free(&cfg);
    unsetenv("HAILO_DEVICE_HTTP_TOKEN");

    setenv("HAILO_DEVICE_DASHBOARD_SERVICES", "clip=ftp://x/", 1);
    assert_true(load(&cfg, &err, 1, argv) < 0);
    assert_non_null(strstr(err.msg, "HAILO_DEVICE_DASHBOARD_SERVICES"));
    assert_non_null(strstr(err.msg, "is not an http:// URL"));
    config_free(&cfg);
    unsetenv("HAILO_DEVICE_DASHBOARD_SERVICES");
    unlink(path);

    /* File errors name the file, the line and the entry. */
    path = write_yaml("dashboard:\n  services:\n    - ok=http://127.0.0.1/\n    - no-equals\n");
    const char *argv3[] = {"hdm", "--config", path};
    assert_true(load(&cfg, &err, 3, argv3) < 0);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, ":4: dashboard service 'no-equals' is not NAME=URL"));
    config_free(&cfg);
    unlink(path);
    path = write_yaml("dashboard:\n  interval_ms: 5\n");
    const char *argv4[] = {"hdm", "--config", path};
    assert_true(load(&cfg, &err, 3, argv4) < 0);
    assert_non_null(strstr(err.msg, "dashboard.interval_ms"));
    config_free(&cfg);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_parallel_genai, clear_env),
        cmocka_unit_test_setup(test_layers_in_order, clear_env),
        cmocka_unit_test_setup(test_original_spellings, clear_env),
        cmocka_unit_test_setup(test_error_texts, clear_env),
        cmocka_unit_test_setup(test_dashboard_settings, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
