/*
 * test_config.c - hailo-clip's YAML keys: the defaults of SERVICES.md, a
 * full file, flags over the file, $HAILO_CLIP_TOKEN, and bad values
 * reported as file:line.
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

#include "clip/clip.h"
#include "common/log.h"

static const char FULL[] =
    "server:\n"
    "  host: 127.0.0.1\n"
    "  port: 5123\n"
    "  max_body_bytes: 1048576\n"
    "  bearer_token: abc\n"
    "manager:\n"
    "  socket: /tmp/x.sock\n"
    "clip:\n"
    "  model: clip-test\n"
    "  embedding_dimension: 768\n"
    "  image_size: 336\n"
    "  device_timeout_ms: 2500\n"
    "  apply_softmax: false\n"
    "  logit_scale: 50.5\n"
    "  image_hef_path: /m/i.hef\n"
    "  text_hef_path: /m/t.hef\n"
    "  text_input_layer: in\n"
    "  text_output_layer: out\n"
    "  tokenizer_path: /m/tok.json\n"
    "  token_embedding_path: /m/emb.npy\n"
    "  text_projection_path: /m/proj.npy\n"
    "text_embedding:\n"
    "  cache_enabled: no\n"
    "  cache_max_entries: 42\n"
    "performance:\n"
    "  worker_threads: 8\n"
    "  max_queue_size: 16\n"
    "  request_timeout: 12\n"
    "  warmup_enabled: off\n"
    "logging:\n"
    "  level: info\n"; /* an old key: a warning, not an error */

static void expect_bad(const char *yaml, const char *needle);

static void test_defaults(void **state)
{
    (void)state;
    clip_config cfg;
    hdm_err err = {0};
    assert_int_equal(clip_config_defaults(&cfg), 0);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_int_equal(cfg.port, 5000);
    assert_string_equal(cfg.model_name, "clip-vit-b-32");
    assert_int_equal(cfg.embedding_dimension, 512);
    assert_int_equal(cfg.image_size, 224);
    assert_true(cfg.apply_softmax);
    assert_float_equal(cfg.logit_scale, 100.0, 0);
    assert_true(cfg.cache_enabled);
    assert_null(cfg.bearer_token);
    /* The original's image path: squash, scaled JPEG decoding within its
     * measured bound, 24 Mpixel, 5 s of decoding. */
    assert_string_equal(cfg.resize_mode, "squash");
    assert_true(cfg.fast_jpeg_decode);
    assert_int_equal(cfg.image_max_pixels, 24000000);
    assert_int_equal(cfg.image_max_decode_ms, 5000);
    assert_int_equal(clip_config_check(&cfg, &err), 0);
    clip_config_free(&cfg);
}

static void test_image_keys(void **state)
{
    (void)state;
    static const char yaml[] = "clip:\n  resize_mode: center_crop\n  fast_jpeg_decode: false\n"
                               "images:\n  max_pixels: 1000000\n  max_decode_ms: 250\n";
    clip_config cfg;
    hdm_err err = {0};
    assert_int_equal(clip_config_defaults(&cfg), 0);
    assert_int_equal(conf_load_string(yaml, strlen(yaml), "c.yaml", clip_config_keys, &cfg, NULL,
                                      NULL, &err), 0);
    assert_string_equal(cfg.resize_mode, "center_crop");
    assert_false(cfg.fast_jpeg_decode);
    assert_int_equal(cfg.image_max_pixels, 1000000);
    assert_int_equal(cfg.image_max_decode_ms, 250);
    assert_int_equal(clip_config_check(&cfg, &err), 0);
    assert_int_equal(conf_set(clip_config_keys, &cfg, "clip.resize_mode", "letterbox", &err), 0);
    assert_int_equal(clip_config_check(&cfg, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "clip.resize_mode must be squash or center_crop"));
    clip_config_free(&cfg);
    expect_bad("images:\n  max_pixels: 0\n", "bad.yaml:2");
    expect_bad("images:\n  max_decode_ms: 0\n", "bad.yaml:2");
}

static void test_full_file_and_flags(void **state)
{
    (void)state;
    clip_config cfg;
    hdm_err err = {0};
    assert_int_equal(clip_config_defaults(&cfg), 0);
    assert_int_equal(conf_load_string(FULL, strlen(FULL), "clip.yaml", clip_config_keys, &cfg,
                                      NULL, NULL, &err), 0);
    assert_string_equal(cfg.host, "127.0.0.1");
    assert_int_equal(cfg.port, 5123);
    assert_int_equal(cfg.max_body_bytes, 1048576);
    assert_string_equal(cfg.bearer_token, "abc");
    assert_string_equal(cfg.manager_socket, "/tmp/x.sock");
    assert_string_equal(cfg.model_name, "clip-test");
    assert_int_equal(cfg.embedding_dimension, 768);
    assert_int_equal(cfg.image_size, 336);
    assert_int_equal(cfg.device_timeout_ms, 2500);
    assert_false(cfg.apply_softmax);
    assert_float_equal(cfg.logit_scale, 50.5, 0);
    assert_string_equal(cfg.image_hef_path, "/m/i.hef");
    assert_string_equal(cfg.text_hef_path, "/m/t.hef");
    assert_string_equal(cfg.text_input_layer, "in");
    assert_string_equal(cfg.text_output_layer, "out");
    assert_string_equal(cfg.tokenizer_path, "/m/tok.json");
    assert_string_equal(cfg.token_embedding_path, "/m/emb.npy");
    assert_string_equal(cfg.text_projection_path, "/m/proj.npy");
    assert_false(cfg.cache_enabled);
    assert_int_equal(cfg.cache_max_entries, 42);
    assert_int_equal(cfg.worker_threads, 8);
    assert_int_equal(cfg.max_queue_size, 16);
    assert_int_equal(cfg.request_timeout_s, 12);
    assert_false(cfg.warmup_enabled);
    /* flags win over the file */
    assert_int_equal(conf_set(clip_config_keys, &cfg, "server.port", "6000", &err), 0);
    assert_int_equal(conf_set(clip_config_keys, &cfg, "server.host", "::", &err), 0);
    assert_int_equal(cfg.port, 6000);
    assert_string_equal(cfg.host, "::");
    assert_true(conf_set(clip_config_keys, &cfg, "server.port", "65536", &err) < 0);
    assert_non_null(strstr(err.msg, "server.port"));
    clip_config_free(&cfg);
}

static void expect_bad(const char *yaml, const char *needle)
{
    clip_config cfg;
    hdm_err err = {0};
    assert_int_equal(clip_config_defaults(&cfg), 0);
    int r = conf_load_string(yaml, strlen(yaml), "bad.yaml", clip_config_keys, &cfg, NULL, NULL,
                             &err);
    if (r == 0 || !strstr(err.msg, needle))
        fprintf(stderr, "r=%d message \"%s\" lacks \"%s\"\n", r, err.msg, needle);
    assert_true(r < 0);
    assert_non_null(strstr(err.msg, needle));
    clip_config_free(&cfg);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_bad("server:\n  port: 99999\n", "bad.yaml:2");
    expect_bad("server:\n  port: five\n", "bad.yaml:2");
    expect_bad("clip:\n  apply_softmax: maybe\n", "bad.yaml:2");
    expect_bad("clip:\n  embedding_dimension: 0\n", "bad.yaml:2");
    expect_bad("clip:\n  logit_scale: -1\n", "bad.yaml:2");
    expect_bad("performance:\n  worker_threads: 0\n", "bad.yaml:2");
    expect_bad("text_embedding:\n  cache_max_entries: 0\n", "bad.yaml:2");
}

static void test_check_and_token_env(void **state)
{
    (void)state;
    clip_config cfg;
    hdm_err err = {0};
    assert_int_equal(clip_config_defaults(&cfg), 0);
    assert_int_equal(conf_set(clip_config_keys, &cfg, "clip.tokenizer_path", "", &err), 0);
    assert_int_equal(clip_config_check(&cfg, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "clip.tokenizer_path"));
    clip_config_free(&cfg);

    /* $HAILO_CLIP_TOKEN over server.bearer_token; a missing file is fine
     * only when allowed */
    char path[] = "/tmp/test_clip_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, FULL, strlen(FULL)), (ssize_t)strlen(FULL));
    close(fd);
    setenv("HAILO_CLIP_TOKEN", "from-env", 1);
    assert_int_equal(clip_config_defaults(&cfg), 0);
    assert_int_equal(clip_config_load(&cfg, path, false, &err), 0);
    assert_string_equal(cfg.bearer_token, "from-env");
    clip_config_free(&cfg);
    unsetenv("HAILO_CLIP_TOKEN");
    unlink(path);
    assert_int_equal(clip_config_defaults(&cfg), 0);
    assert_true(clip_config_load(&cfg, path, false, &err) < 0);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(clip_config_load(&cfg, path, true, &err), 0);
    clip_config_free(&cfg);
}

int main(void)
{
    log_init("test_config", LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_file_and_flags),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_check_and_token_env),
        cmocka_unit_test(test_image_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
