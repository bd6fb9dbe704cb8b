/*
 * test_config.c - hailo-ocr's YAML keys: the original's defaults, the
 * original's own config.yaml loading whole (unused keys included), the
 * recognition_hefs mapping (languages replace the defaults, order kept,
 * null drops a language), flags over the file, $HAILO_OCR_TOKEN, and bad
 * values reported as file:line.
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

#include "common/log.h"
#include "ocr/ocr.h"

/* The original's system_services/hailo-ocr/config.yaml, comments and all. */
static const char ORIGINAL[] =
    "server:\n"
    "  host: 0.0.0.0\n"
    "  port: 11436\n"
    "\n"
    "ocr:\n"
    "  # Language models to support: 'en', 'ch_sim', 'ch_tra', etc.\n"
    "  languages:\n"
    "    - en\n"
    "  \n"
    "  # Enable text recognition (character-level output)\n"
    "  enable_recognition: true\n"
    "  det_threshold: 0.3       # Detection confidence (0.0-1.0)\n"
    "  rec_threshold: 0.5       # Recognition confidence (0.0-1.0)\n"
    "\n"
    "hailo_models:\n"
    "  detection_hef: \"ocr_det.hef\"\n"
    "  recognition_hefs:\n"
    "    en: \"ocr.hef\"\n"
    "    zh: \"ocr_chinese.hef\"\n"
    "  batch_size_det: 1\n"
    "  batch_size_rec: 8\n"
    "  priority: 0\n"
    "  device: \"/dev/hailo0\"\n"
    "\n"
    "processing:\n"
    "  max_image_size: 4096\n"
    "  jpeg_quality: 90\n"
    "  enable_caching: false\n"
    "  cache_ttl_seconds: 3600\n"
    "  max_cache_size_mb: 500\n"
    "\n"
    "resource_limits:\n"
    "  memory_max: \"2.5G\"\n"
    "  cpu_quota: \"75%\"\n";

static char tmpdir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-ocr-config-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    unsetenv("HAILO_OCR_TOKEN");
    log_init("test", LOG_LEVEL_ERROR);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void load(ocr_config *cfg, const char *yaml)
{
    hdm_err err = {0};
    assert_int_equal(ocr_config_defaults(cfg), 0);
    int r = ocr_config_load(cfg, write_file("c.yaml", yaml), false, &err);
    if (r != 0)
        fail_msg("load failed: %s", err.msg);
}

static void expect_bad(const char *yaml, const char *needle)
{
    ocr_config cfg;
    hdm_err err = {0};
    assert_int_equal(ocr_config_defaults(&cfg), 0);
    int r = ocr_config_load(&cfg, write_file("bad.yaml", yaml), false, &err);
    if (r == 0)
        r = ocr_config_check(&cfg, &err);
    if (r == 0)
        fail_msg("accepted: %s", yaml);
    if (!strstr(err.msg, needle))
        fail_msg("error '%s' does not name '%s'", err.msg, needle);
    ocr_config_free(&cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    ocr_config cfg;
    hdm_err err = {0};
    assert_int_equal(ocr_config_defaults(&cfg), 0);
    assert_string_equal(cfg.host, "127.0.0.1"); /* the original bound 0.0.0.0 */
    assert_int_equal(cfg.port, 11436);
    assert_int_equal(cfg.max_body_bytes, 10 * 1024 * 1024);
    assert_int_equal(cfg.languages.n, 1);
    assert_string_equal(cfg.languages.items[0], "en");
    assert_string_equal(cfg.detection_hef, "ocr_det.hef");
    assert_int_equal(cfg.n_langs, 2);
    assert_string_equal(cfg.langs[0].code, "en");
    assert_string_equal(cfg.langs[0].hef, "ocr.hef");
    assert_string_equal(cfg.langs[1].code, "zh");
    assert_string_equal(cfg.langs[1].hef, "ocr_chinese.hef");
    assert_int_equal(cfg.batch_size_rec, 8);
    assert_string_equal(cfg.models_root, "/var/lib/hailo-ocr/resources/models/hailo10h");
    assert_string_equal(cfg.device, "/dev/hailo0");
    assert_int_equal(cfg.allowed_dirs.n, 0); /* file:// is off */
    assert_int_equal(cfg.image_max_concurrent, 1);
    assert_null(cfg.bearer_token);
    assert_int_equal(ocr_config_check(&cfg, &err), 0);
    ocr_config_free(&cfg);
}

static void test_original_file(void **state)
{
    (void)state;
    ocr_config cfg;
    hdm_err err = {0};
    load(&cfg, ORIGINAL);
    assert_int_equal(ocr_config_check(&cfg, &err), 0);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_int_equal(cfg.port, 11436);
    assert_true(cfg.enable_recognition);
    assert_float_equal(cfg.det_threshold, 0.3, 0);
    assert_float_equal(cfg.rec_threshold, 0.5, 0);
    assert_int_equal(cfg.n_langs, 2);
    assert_string_equal(cfg.langs[1].hef, "ocr_chinese.hef");
    assert_int_equal(cfg.batch_size_det, 1);
    assert_int_equal(cfg.priority, 0);
    assert_int_equal(cfg.max_image_size, 4096);
    assert_int_equal(cfg.jpeg_quality, 90);
    assert_false(cfg.enable_caching);
    assert_int_equal(cfg.cache_ttl_seconds, 3600);
    assert_int_equal(cfg.max_cache_size_mb, 500);
    assert_string_equal(cfg.memory_max, "2.5G");
    assert_string_equal(cfg.cpu_quota, "75%");
    ocr_config_free(&cfg);
}

static void test_languages_mapping(void **state)
{
    (void)state;
    ocr_config cfg;
    load(&cfg, "hailo_models:\n"
               "  recognition_hefs:\n"
               "    fr: /m/fr.hef\n"
               "    ch_sim: ch.hef\n"
               "    de: null\n"
               "    en: en.hef\n"
               "ocr:\n"
               "  languages: [ch_sim, fr]\n");
    /* The file's languages replace the defaults, in the file's order; a
     * null one is not configured. */
    assert_int_equal(cfg.n_langs, 3);
    assert_string_equal(cfg.langs[0].code, "fr");
    assert_string_equal(cfg.langs[0].hef, "/m/fr.hef");
    assert_string_equal(cfg.langs[1].code, "ch_sim");
    assert_string_equal(cfg.langs[2].code, "en");
    assert_int_equal(ocr_config_lang_index(&cfg, "en"), 2);
    assert_int_equal(ocr_config_lang_index(&cfg, "de"), -1);
    assert_int_equal(cfg.languages.n, 2);
    ocr_config_free(&cfg);

    /* Without the mapping the defaults stay. */
    load(&cfg, "hailo_models:\n  batch_size_rec: 4\n");
    assert_int_equal(cfg.n_langs, 2);
    assert_int_equal(cfg.batch_size_rec, 4);
    ocr_config_free(&cfg);
}

static void test_ours(void **state)
{
    (void)state;
    ocr_config cfg;
    load(&cfg, "server:\n  threads: 2\n  max_body_bytes: 2048\n  bearer_token: t0k\n"
               "manager:\n  socket: /tmp/m.sock\n  keep_alive: 30\n  timeout_s: 9\n"
               "images:\n  max_pixels: 1000\n  max_decode_ms: 50\n  max_concurrent: 3\n"
               "  max_wait_ms: 7\n  allowed_dirs: [/srv/img, /tmp]\n"
               "performance:\n  opencv_threads: 1\n");
    assert_int_equal(cfg.threads, 2);
    assert_int_equal(cfg.max_body_bytes, 2048);
    assert_string_equal(cfg.bearer_token, "t0k");
    assert_string_equal(cfg.manager_socket, "/tmp/m.sock");
    assert_float_equal(cfg.keep_alive, 30, 0);
    assert_int_equal(cfg.timeout_s, 9);
    assert_int_equal(cfg.image_max_pixels, 1000);
    assert_int_equal(cfg.image_max_decode_ms, 50);
    assert_int_equal(cfg.image_max_concurrent, 3);
    assert_int_equal(cfg.image_max_wait_ms, 7);
    assert_int_equal(cfg.allowed_dirs.n, 2);
    assert_string_equal(cfg.allowed_dirs.items[1], "/tmp");
    assert_int_equal(cfg.opencv_threads, 1);
    ocr_config_free(&cfg);
}

static void test_token_env_and_flags(void **state)
{
    (void)state;
    ocr_config cfg;
    hdm_err err = {0};
    setenv("HAILO_OCR_TOKEN", "from-env", 1);
    load(&cfg, "server:\n  bearer_token: in-file\n");
    unsetenv("HAILO_OCR_TOKEN");
    assert_string_equal(cfg.bearer_token, "from-env");
    assert_int_equal(conf_set(ocr_config_keys, &cfg, "server.port", "0", &err), 0);
    assert_int_equal(cfg.port, 0);
    assert_int_not_equal(conf_set(ocr_config_keys, &cfg, "server.port", "70000", &err), 0);
    ocr_config_free(&cfg);
}

static void test_missing_file(void **state)
{
    (void)state;
    ocr_config cfg;
    hdm_err err = {0};
    assert_int_equal(ocr_config_defaults(&cfg), 0);
    assert_int_equal(ocr_config_load(&cfg, "/nonexistent/hailo-ocr.yaml", true, &err), 0);
    assert_int_equal(cfg.port, 11436);
    assert_int_equal(ocr_config_load(&cfg, "/nonexistent/hailo-ocr.yaml", false, &err),
                     -HDM_E_NOT_FOUND);
    ocr_config_free(&cfg);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_bad("server:\n  port: nope\n", "bad.yaml:2");
    expect_bad("server:\n  port: 70000\n", "server.port");
    expect_bad("hailo_models:\n  batch_size_rec: 0\n", "batch_size_rec");
    expect_bad("hailo_models:\n  batch_size_rec: 257\n", "batch_size_rec");
    expect_bad("hailo_models:\n  recognition_hefs: ocr.hef\n",
               "bad.yaml:2: hailo_models.recognition_hefs must be a mapping");
    expect_bad("hailo_models:\n  recognition_hefs:\n    \"e n\": x.hef\n",
               "bad.yaml:3: hailo_models.recognition_hefs: 'e n' is not a language code");
    expect_bad("hailo_models:\n  recognition_hefs:\n    en:\n      path: x.hef\n",
               "is not a language code");
    expect_bad("hailo_models:\n  recognition_hefs:\n    en: null\n", "at least one language");
    expect_bad("hailo_models:\n  detection_hef: \"\"\n", "detection_hef must not be empty");
    expect_bad("hailo_models:\n  models_root: relative/dir\n", "models_root");
    expect_bad("ocr:\n  languages: [\"e/n\"]\n", "ocr.languages");
    expect_bad("ocr:\n  det_threshold: 2\n", "det_threshold");
    expect_bad("images:\n  max_concurrent: 0\n", "max_concurrent");
    expect_bad("images:\n  allowed_dirs: [relative]\n", "images.allowed_dirs");
    expect_bad("server:\n  host: \"\"\n", "server.host");
}

static void test_lang_code(void **state)
{
    (void)state;
    assert_true(ocr_lang_code_ok("en"));
    assert_true(ocr_lang_code_ok("ch_sim"));
    assert_true(ocr_lang_code_ok("zh-Hant"));
    assert_false(ocr_lang_code_ok(""));
    assert_false(ocr_lang_code_ok(NULL));
    assert_false(ocr_lang_code_ok("e n"));
    assert_false(ocr_lang_code_ok("../x"));
    assert_false(ocr_lang_code_ok("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_original_file),
        cmocka_unit_test(test_languages_mapping), cmocka_unit_test(test_ours),
        cmocka_unit_test(test_token_env_and_flags), cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_bad_values),        cmocka_unit_test(test_lang_code),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
