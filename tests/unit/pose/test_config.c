/*
 * test_config.c - hailo-pose's YAML keys: the original's defaults, the
 * original's config.yaml loading whole (its unused keys too), ours, nulls
 * keeping defaults, the HEF path derived from model.name, env overrides,
 * and bad values reported as file:line or named by the check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pose/pose.h"

/* The original's system_services/hailo-pose/config.yaml (0ec609a), as is. */
static const char ORIGINAL[] =
    "server:\n"
    "  host: 0.0.0.0\n"
    "  port: 11440\n"
    "\n"
    "model:\n"
    "  # Model name and variant\n"
    "  name: \"yolov8s_pose\"\n"
    "  keep_alive: -1\n"
    "\n"
    "inference:\n"
    "  confidence_threshold: 0.5\n"
    "  iou_threshold: 0.45\n"
    "  max_detections: 10\n"
    "  input_size: [640, 640]\n"
    "\n"
    "pose:\n"
    "  keypoint_threshold: 0.3\n"
    "  skeleton_connections: true  # Return skeleton connections for visualization\n"
    "\n"
    "resource_limits:\n"
    "  memory_max: \"2G\"\n"
    "  cpu_quota: \"80%\"\n";

static int unknown_keys;
static void count_unknown(void *user, const char *file, int line, const char *key)
{
    (void)user, (void)file, (void)line, (void)key;
    unknown_keys++;
}

static int load(pose_config *cfg, const char *yaml, hdm_err *err)
{
    assert_int_equal(pose_config_defaults(cfg), 0);
    return conf_load_string(yaml, strlen(yaml), "pose.yaml", pose_config_keys, cfg, count_unknown,
                            NULL, err);
}

static void test_defaults(void **state)
{
    (void)state;
    pose_config cfg;
    hdm_err err = {0};
    assert_int_equal(pose_config_defaults(&cfg), 0);
    assert_string_equal(cfg.host, "127.0.0.1"); /* the original: 0.0.0.0 */
    assert_int_equal(cfg.port, 11440);
    assert_string_equal(cfg.model_name, "yolov8s_pose");
    assert_float_equal(cfg.keep_alive, -1, 0);
    assert_float_equal(cfg.conf_threshold, 0.5, 0);
    assert_float_equal(cfg.iou_threshold, 0.45, 0);
    assert_int_equal(cfg.max_detections, 10);
    assert_float_equal(cfg.keypoint_threshold, 0.3, 0);
    assert_true(cfg.skeleton_connections);
    assert_int_equal(cfg.max_body_bytes, 16 * 1024 * 1024);
    assert_int_equal(cfg.worker_threads, 4);
    assert_int_equal(cfg.max_concurrent, 1);
    assert_int_equal(cfg.image_large_pixels, 1000000);
    assert_int_equal(cfg.image_large_decodes, 1);
    assert_int_equal(cfg.device_timeout_s, 120);
    assert_int_equal(cfg.image_max_pixels, 24000000);
    assert_null(cfg.bearer_token);
    assert_int_equal(pose_config_check(&cfg, &err), 0);
    assert_string_equal(cfg.hef_path,
                        "/var/lib/hailo-pose/resources/models/hailo10h/yolov8s_pose.hef");
    assert_int_equal(pose_config_render_format(&cfg), POSE_RENDER_JPEG);
    pose_config_free(&cfg);
}

static void test_original_file_loads_whole(void **state)
{
    (void)state;
    pose_config cfg;
    hdm_err err = {0};
    unknown_keys = 0;
    assert_int_equal(load(&cfg, ORIGINAL, &err), 0);
    assert_int_equal(unknown_keys, 0);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_int_equal(cfg.input_size.n, 2);
    assert_string_equal(cfg.input_size.items[0], "640");
    assert_string_equal(cfg.memory_max, "2G");
    assert_string_equal(cfg.cpu_quota, "80%");
    assert_int_equal(pose_config_check(&cfg, &err), 0);
    pose_config_free(&cfg);
}

static void test_ours_and_nulls(void **state)
{
    (void)state;
    static const char yaml[] =
        "server:\n  port: 12000\n  max_body_bytes: 2048\n  bearer_token: t\n"
        "  worker_threads: 2\n"
        "manager:\n  socket: /tmp/s.sock\n  timeout: 7\n"
        "model:\n  name: yolov8m_pose\n  keep_alive: 300\n"
        "inference:\n  confidence_threshold: null\n  iou_threshold: ~\n  max_detections: 3\n"
        "pose:\n  keypoint_threshold: 0.9\n  skeleton_connections: false\n"
        "images:\n  max_pixels: 1000\n  max_decode_ms: 10\n"
        "render:\n  format: png\n  jpeg_quality: 40\n";
    pose_config cfg;
    hdm_err err = {0};
    unknown_keys = 0;
    assert_int_equal(load(&cfg, yaml, &err), 0);
    assert_int_equal(unknown_keys, 0);
    assert_int_equal(cfg.port, 12000);
    assert_int_equal(cfg.max_body_bytes, 2048);
    assert_string_equal(cfg.bearer_token, "t");
    assert_int_equal(cfg.worker_threads, 2);
    assert_string_equal(cfg.manager_socket, "/tmp/s.sock");
    assert_int_equal(cfg.device_timeout_s, 7);
    assert_float_equal(cfg.keep_alive, 300, 0);
    assert_float_equal(cfg.conf_threshold, 0.5, 0); /* null: the default */
    assert_float_equal(cfg.iou_threshold, 0.45, 0);
    assert_int_equal(cfg.max_detections, 3);
    assert_float_equal(cfg.keypoint_threshold, 0.9, 0);
    assert_false(cfg.skeleton_connections);
    assert_int_equal(cfg.image_max_pixels, 1000);
    assert_int_equal(cfg.image_max_decode_ms, 10);
    assert_int_equal(cfg.render_jpeg_quality, 40);
    assert_int_equal(pose_config_check(&cfg, &err), 0);
    assert_int_equal(pose_config_render_format(&cfg), POSE_RENDER_PNG);
    /* the HEF follows model.name, as hailo-apps' resolve_hef_path did */
    assert_string_equal(cfg.hef_path,
                        "/var/lib/hailo-pose/resources/models/hailo10h/yolov8m_pose.hef");
    pose_config_free(&cfg);

    assert_int_equal(load(&cfg, "model:\n  hef_path: /m/p.hef\nextra:\n  key: 1\n", &err), 0);
    assert_int_equal(unknown_keys, 1);
    assert_int_equal(pose_config_check(&cfg, &err), 0);
    assert_string_equal(cfg.hef_path, "/m/p.hef");
    pose_config_free(&cfg);
}

static void expect_load_error(const char *yaml, const char *needle)
{
    pose_config cfg;
    hdm_err err = {0};
    int r = load(&cfg, yaml, &err);
    if (r == 0 || !strstr(err.msg, needle))
        fprintf(stderr, "r=%d message \"%s\" lacks \"%s\"\n", r, err.msg, needle);
    assert_true(r < 0);
    assert_non_null(strstr(err.msg, needle));
    pose_config_free(&cfg);
}

static void expect_check_error(const char *yaml, const char *needle)
{
    pose_config cfg;
    hdm_err err = {0};
    assert_int_equal(load(&cfg, yaml, &err), 0);
    int r = pose_config_check(&cfg, &err);
    if (r == 0 || !strstr(err.msg, needle))
        fprintf(stderr, "r=%d message \"%s\" lacks \"%s\"\n", r, err.msg, needle);
    assert_int_equal(r, -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, needle));
    pose_config_free(&cfg);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_load_error("server:\n  port: 99999\n", "pose.yaml:2");
    expect_load_error("inference:\n  iou_threshold: 1.5\n", "pose.yaml:2");
    expect_load_error("inference:\n  confidence_threshold: -0.1\n", "pose.yaml:2");
    expect_load_error("inference:\n  max_detections: 0\n", "pose.yaml:2");
    expect_load_error("inference:\n  max_detections: 1001\n", "pose.yaml:2");
    expect_load_error("pose:\n  keypoint_threshold: 2\n", "pose.yaml:2");
    expect_load_error("pose:\n  skeleton_connections: maybe\n", "pose.yaml:2");
    expect_load_error("model:\n  keep_alive: -5\n", "pose.yaml:2");
    expect_load_error("render:\n  jpeg_quality: 0\n", "pose.yaml:2");
    /* confidence 0 emits the padding rows in the original: refused */
    expect_check_error("inference:\n  confidence_threshold: 0\n", "confidence_threshold");
    expect_check_error("model:\n  keep_alive: -0.5\n", "model.keep_alive");
    expect_check_error("model:\n  name: \"\"\n", "model.name");
    expect_check_error("inference:\n  input_size: [640]\n", "inference.input_size");
    expect_check_error("inference:\n  input_size: [640, big]\n", "inference.input_size");
    expect_check_error("render:\n  format: gif\n", "render.format");
}

static void test_input_size_other_than_640_is_only_a_warning(void **state)
{
    (void)state;
    pose_config cfg;
    hdm_err err = {0};
    assert_int_equal(load(&cfg, "inference:\n  input_size: [320, 320]\n", &err), 0);
    assert_int_equal(pose_config_check(&cfg, &err), 0);
    pose_config_free(&cfg);
}

static void test_decode_gate(void **state)
{
    (void)state;
    pose_config cfg;
    hdm_err err = {0};
    image_gate_config g;
    assert_int_equal(load(&cfg,
                          "server:\n  worker_threads: 6\n  max_concurrent_detections: 3\n"
                          "images:\n  large_pixels: 2000000\n  max_large_decodes: 12\n",
                          &err),
                     0);
    assert_int_equal(cfg.max_concurrent, 3);
    pose_config_gate(&cfg, &g);
    assert_int_equal(g.heavy_pixels, 2000000);
    assert_int_equal(g.heavy_slots, 12);
    assert_true(g.slots >= 12);               /* raised to hold the large ones */
    assert_int_equal(g.max_heavy_waiting, 6); /* every handler may wait, none refused */
    assert_int_equal(image_gate_configure(&g, &err), 0);
    pose_config_free(&cfg);
    assert_int_equal(pose_config_defaults(&cfg), 0);
    pose_config_gate(&cfg, &g);
    assert_int_equal(g.heavy_pixels, 1000000);
    assert_int_equal(g.heavy_slots, 1);
    pose_config_free(&cfg);
    expect_load_error("images:\n  max_large_decodes: 0\n", "pose.yaml:2");
    expect_load_error("server:\n  max_concurrent_detections: 0\n", "pose.yaml:2");
}

static void test_env_overrides(void **state)
{
    (void)state;
    char path[] = "/tmp/test_pose_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ORIGINAL, strlen(ORIGINAL)), (ssize_t)strlen(ORIGINAL));
    close(fd);
    pose_config cfg;
    hdm_err err = {0};
    setenv("HAILO_POSE_TOKEN", "from-env", 1);
    setenv("HAILO_DEVICE_TIMEOUT", "45.5", 1);
    assert_int_equal(pose_config_defaults(&cfg), 0);
    assert_int_equal(pose_config_load(&cfg, path, false, &err), 0);
    assert_string_equal(cfg.bearer_token, "from-env");
    assert_int_equal(cfg.device_timeout_s, 45);
    pose_config_free(&cfg);
    /* a bad value is ignored with a warning, as the original fell back */
    setenv("HAILO_DEVICE_TIMEOUT", "soon", 1);
    assert_int_equal(pose_config_defaults(&cfg), 0);
    assert_int_equal(pose_config_load(&cfg, path, false, &err), 0);
    assert_int_equal(cfg.device_timeout_s, 120);
    pose_config_free(&cfg);
    unsetenv("HAILO_POSE_TOKEN");
    unsetenv("HAILO_DEVICE_TIMEOUT");
    unlink(path);
    assert_int_equal(pose_config_defaults(&cfg), 0);
    assert_true(pose_config_load(&cfg, path, false, &err) < 0);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(pose_config_load(&cfg, path, true, &err), 0);
    pose_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_original_file_loads_whole),
        cmocka_unit_test(test_ours_and_nulls),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_input_size_other_than_640_is_only_a_warning),
        cmocka_unit_test(test_decode_gate),
        cmocka_unit_test(test_env_overrides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
