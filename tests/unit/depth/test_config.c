/*
 * test_config.c - hailo-depth's config: the original's keys all load
 * (used or not), the defaults, our keys, and the checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "depth/depth.h"

static char path[64];

static void write_config(const char *text)
{
    strcpy(path, "/tmp/hdm-depth-cfg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Loads `text` over the defaults and checks it; returns the load/check code. */
static int load(const char *text, depth_config *c, hdm_err *err)
{
    assert_int_equal(depth_config_defaults(c), 0);
    write_config(text);
    int r = depth_config_load(c, path, false, err);
    unlink(path);
    return r < 0 ? r : depth_config_check(c, err);
}

static void test_defaults(void **state)
{
    (void)state;
    depth_config c;
    hdm_err err = {0};
    assert_int_equal(depth_config_defaults(&c), 0);
    assert_int_equal(depth_config_check(&c, &err), 0);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 11439);
    assert_string_equal(c.model_name, "scdepthv3");
    assert_string_equal(c.model_type, "monocular");
    assert_string_equal(c.output_format, "both");
    assert_string_equal(c.colormap, "viridis");
    assert_true(c.normalize && c.include_stats && c.allow_image_url);
    assert_false(c.allow_local_paths || c.depth_png_16);
    assert_true(c.max_image_mb == 50);
    assert_int_equal(depth_config_max_bytes(&c), 50u << 20);
    assert_int_equal(c.input_height, 256);
    assert_int_equal(c.input_width, 320);
    assert_string_equal(c.transform, "none");
    char *hef = depth_config_hef_path(&c);
    assert_string_equal(hef, "/var/lib/hailo-depth/resources/models/scdepthv3.hef");
    free(hef);
    depth_config_free(&c);
}

/* The original's config.yaml, every key, as installs have it. */
static void test_original_file(void **state)
{
    (void)state;
    depth_config c;
    hdm_err err = {0};
    assert_int_equal(load("server:\n  host: 0.0.0.0\n  port: 11439\n"
                          "model:\n  name: \"scdepthv3\"\n  type: \"monocular\"\n"
                          "  keep_alive: -1\n"
                          "output:\n  format: \"numpy\"\n  colormap: \"magma\"\n"
                          "  normalize: false\n  include_stats: false\n  depth_png_16: true\n"
                          "input:\n  allow_local_paths: true\n  allow_image_url: false\n"
                          "  max_image_mb: 10\n"
                          "resources:\n  model_dir: /srv/models/\n"
                          "  postprocess_dir: /srv/post\n"
                          "resource_limits:\n  memory_max: \"2G\"\n  cpu_quota: \"50%\"\n",
                          &c, &err),
                     0);
    assert_string_equal(c.host, "0.0.0.0");
    assert_string_equal(c.output_format, "numpy");
    assert_string_equal(c.colormap, "magma");
    assert_false(c.normalize || c.include_stats || c.allow_image_url);
    assert_true(c.depth_png_16 && c.allow_local_paths);
    assert_int_equal(depth_config_max_bytes(&c), 10u << 20);
    assert_string_equal(c.postprocess_dir, "/srv/post");
    assert_string_equal(c.memory_max, "2G");
    char *hef = depth_config_hef_path(&c);
    assert_string_equal(hef, "/srv/models/scdepthv3.hef");
    free(hef);
    depth_config_free(&c);
}

static void test_ours(void **state)
{
    (void)state;
    depth_config c;
    hdm_err err = {0};
    assert_int_equal(load("model:\n  hef_path: /opt/m/depth.hef\n  input_height: 192\n"
                          "  input_width: 640\n"
                          "output:\n  transform: metres\n  png_level: 6\n  npz_level: 0\n"
                          "input:\n  allowed_dirs: [/srv/img]\n"
                          "  remote_allowed_networks: [192.168.1.0/24]\n"
                          "performance:\n  memory_budget_mb: 64\n",
                          &c, &err),
                     0);
    char *hef = depth_config_hef_path(&c);
    assert_string_equal(hef, "/opt/m/depth.hef");
    free(hef);
    assert_int_equal(c.input_width, 640);
    assert_string_equal(c.transform, "metres");
    assert_int_equal(c.npz_level, 0);
    assert_int_equal(c.allowed_dirs.n, 1);
    assert_int_equal(c.memory_budget_mb, 64);
    depth_config_free(&c);
}

static void expect_bad(const char *text, const char *words)
{
    depth_config c;
    hdm_err err = {0};
    assert_int_equal(load(text, &c, &err), -HDM_E_BAD_REQUEST);
    if (!strstr(err.msg, words))
        fail_msg("\"%s\" not in \"%s\"", words, err.msg);
    depth_config_free(&c);
}

static void test_checks(void **state)
{
    (void)state;
    /* The original's render validation. */
    expect_bad("output:\n  format: png\n", "output.format must be one of numpy, image, both, "
                                           "depth_png_16");
    expect_bad("output:\n  colormap: inferno\n", "output.colormap");
    expect_bad("output:\n  transform: feet\n", "output.transform");
    expect_bad("model:\n  name: \"\"\n", "model.name must not be empty");
    expect_bad("model:\n  name: ../x\n", "model.name");
    expect_bad("model:\n  keep_alive: -2\n", "model.keep_alive");
    expect_bad("model:\n  hef_path: rel.hef\n", "model.hef_path");
    expect_bad("input:\n  allowed_dirs: [rel]\n", "input.allowed_dirs[0]");
    expect_bad("input:\n  remote_allowed_networks: [nope]\n", "input.remote_allowed_networks");
    expect_bad("input:\n  max_image_mb: 0\n", "input.max_image_mb");
    expect_bad("server:\n  port: 70000\n", "server.port");
    /* png16 is accepted as our alias of depth_png_16. */
    depth_config c;
    hdm_err err = {0};
    assert_int_equal(load("output:\n  format: png16\n", &c, &err), 0);
    depth_config_free(&c);
}

/* null in the original's file (a key rendered as None) keeps the default. */
static void test_null_keeps_default(void **state)
{
    (void)state;
    depth_config c;
    hdm_err err = {0};
    assert_int_equal(load("model:\n  keep_alive: null\ninput:\n  max_image_mb: ~\n"
                          "output:\n  normalize:\n  format: null\n",
                          &c, &err),
                     0);
    assert_true(c.keep_alive == -1);
    assert_true(c.max_image_mb == 50);
    assert_true(c.normalize);
    assert_string_equal(c.output_format, "both");
    depth_config_free(&c);
}

static void test_missing_file(void **state)
{
    (void)state;
    depth_config c;
    hdm_err err = {0};
    assert_int_equal(depth_config_defaults(&c), 0);
    /* The original ran on its defaults without a file; an explicit one must exist. */
    assert_int_equal(depth_config_load(&c, "/nonexistent/hailo-depth.yaml", true, &err), 0);
    assert_int_equal(depth_config_load(&c, "/nonexistent/hailo-depth.yaml", false, &err),
                     -HDM_E_NOT_FOUND);
    depth_config_free(&c);
}

static void test_token_env(void **state)
{
    (void)state;
    depth_config c;
    hdm_err err = {0};
    setenv("HAILO_DEPTH_TOKEN", "s3cret", 1);
    assert_int_equal(load("server:\n  bearer_token: other\n", &c, &err), 0);
    assert_string_equal(c.bearer_token, "s3cret");
    unsetenv("HAILO_DEPTH_TOKEN");
    depth_config_free(&c);
}

static void test_formats(void **state)
{
    (void)state;
    assert_int_equal(depth_format_parse("numpy"), DEPTH_OUT_NUMPY);
    assert_int_equal(depth_format_parse("image"), DEPTH_OUT_IMAGE);
    assert_int_equal(depth_format_parse("both"), DEPTH_OUT_BOTH);
    assert_int_equal(depth_format_parse("depth_png_16"), DEPTH_OUT_PNG16);
    assert_int_equal(depth_format_parse("png16"), DEPTH_OUT_PNG16);
    assert_int_equal(depth_format_parse("Both"), DEPTH_OUT_NONE);
    assert_int_equal(depth_format_parse(NULL), DEPTH_OUT_NONE);
    assert_true(depth_format_has_image(DEPTH_OUT_BOTH));
    assert_false(depth_format_has_image(DEPTH_OUT_PNG16));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_original_file),
        cmocka_unit_test(test_ours),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_null_keeps_default),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_token_env),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
