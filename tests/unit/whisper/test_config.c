/*
 * test_config.c - hailo-whisper's YAML keys (src/whisper/config.c): every
 * key of the original's config file loads (with its values), ours too, the
 * "no language" spellings all mean detection, and bad values are refused
 * with the key named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "whisper/whisper.h"

/* The original's keys with the values its shipped config.yaml has. */
static const char original[] = "server:\n"
                               "  host: 0.0.0.0\n"
                               "  port: 11437\n"
                               "model:\n"
                               "  name: \"Whisper-Base\"\n"
                               "  variant: \"base\"\n"
                               "  keep_alive: -1\n"
                               "transcription:\n"
                               "  language: \"en\"\n"
                               "  temperature: 0.0\n"
                               "  beam_size: 5\n"
                               "  vad_filter: true\n"
                               "  max_audio_duration_seconds: 300\n"
                               "storage:\n"
                               "  cache_dir: \"/var/lib/hailo-whisper/cache\"\n"
                               "  resources_dir: \"/var/lib/hailo-whisper/resources\"\n"
                               "resource_limits:\n"
                               "  memory_max: \"3G\"\n"
                               "  cpu_quota: \"80%\"\n";

static int load(whisper_config *c, const char *yaml, hdm_err *err)
{
    assert_int_equal(whisper_config_defaults(c), 0);
    int r = conf_load_string(yaml, strlen(yaml), "t.yaml", whisper_config_keys, c, NULL, NULL,
                             err);
    return r < 0 ? r : whisper_config_check(c, err);
}

static void test_defaults(void **state)
{
    (void)state;
    whisper_config c;
    hdm_err err = {0};
    assert_int_equal(whisper_config_defaults(&c), 0);
    assert_int_equal(whisper_config_check(&c, &err), 0);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 11437);
    assert_string_equal(c.model_name, "Whisper-Base");
    assert_string_equal(c.hef_path,
                        "/var/lib/hailo-whisper/resources/models/hailo10h/Whisper-Base.hef");
    assert_true(c.keep_alive == -1);
    assert_null(whisper_config_language(&c)); /* detected, as OpenAI */
    assert_true(c.vad_filter);
    assert_true(c.max_seconds == 300);
    assert_int_equal(c.max_file_bytes, 25 * 1024 * 1024);
    assert_int_equal(c.max_concurrent, 2);
    whisper_config_free(&c);
}

static void test_original_keys(void **state)
{
    (void)state;
    whisper_config c;
    hdm_err err = {0};
    if (load(&c, original, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(c.host, "0.0.0.0");
    assert_string_equal(c.model_variant, "base");
    assert_string_equal(whisper_config_language(&c), "en");
    assert_true(c.temperature == 0.0);
    assert_int_equal(c.beam_size, 5);
    assert_string_equal(c.cache_dir, "/var/lib/hailo-whisper/cache");
    assert_string_equal(c.resources_dir, "/var/lib/hailo-whisper/resources");
    assert_string_equal(c.memory_max, "3G");
    assert_string_equal(c.cpu_quota, "80%");
    whisper_config_free(&c);
}

static void test_our_keys(void **state)
{
    (void)state;
    whisper_config c;
    hdm_err err = {0};
    const char *yaml = "server:\n  threads: 3\n  bearer_token: t0k\n"
                       "manager:\n  socket: /tmp/s.sock\n  request_timeout_s: 9\n"
                       "model:\n  hef_path: /m/w.hef\n  keep_alive: 0\n"
                       "transcription:\n  vad_filter: false\n  max_audio_duration_seconds: 3600\n"
                       "  max_file_bytes: 1048576\n  max_concurrent: 1\n  max_waiting: 0\n"
                       "audio:\n  max_decode_ms: 500\n";
    if (load(&c, yaml, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(c.threads, 3);
    assert_string_equal(c.bearer_token, "t0k");
    assert_string_equal(c.manager_socket, "/tmp/s.sock");
    assert_int_equal(c.request_timeout_s, 9);
    assert_string_equal(c.hef_path, "/m/w.hef");
    assert_true(c.keep_alive == 0);
    assert_false(c.vad_filter);
    assert_true(c.max_seconds == 3600);
    assert_int_equal(c.max_file_bytes, 1048576);
    assert_int_equal(c.max_concurrent, 1);
    assert_int_equal(c.max_waiting, 0);
    assert_int_equal(c.max_decode_ms, 500);
    whisper_config_free(&c);
}

/* null, "", "null" and "auto" all mean: the model detects the language. */
static void test_no_language(void **state)
{
    (void)state;
    static const char *const spellings[] = {
        "transcription:\n  language: null\n",   "transcription:\n  language: ~\n",
        "transcription:\n  language:\n",        "transcription:\n  language: \"\"\n",
        "transcription:\n  language: \"null\"\n", "transcription:\n  language: auto\n",
    };
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        whisper_config c;
        hdm_err err = {0};
        if (load(&c, spellings[i], &err) != 0)
            fail_msg("%s: %s", spellings[i], err.msg);
        if (whisper_config_language(&c) != NULL)
            fail_msg("%s gave %s", spellings[i], whisper_config_language(&c));
        whisper_config_free(&c);
    }
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *words;
    } bad[] = {
        {"transcription:\n  language: \"e n\"\n", "transcription.language"},
        {"transcription:\n  vad_filter: maybe\n", "t.yaml:2"},
        {"transcription:\n  max_audio_duration_seconds: 0\n", "t.yaml:2"},
        {"model:\n  keep_alive: -5\n", "t.yaml:2"},
        {"model:\n  keep_alive: -0.5\n", "model.keep_alive"},
        {"model:\n  hef_path: relative.hef\n", "model.hef_path"},
        {"model:\n  name: \"\"\n", "model.name"},
        {"server:\n  port: 70000\n", "t.yaml:2"},
        {"transcription:\n  max_concurrent: 0\n", "t.yaml:2"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        whisper_config c;
        hdm_err err = {0};
        assert_true(load(&c, bad[i].yaml, &err) < 0);
        if (!strstr(err.msg, bad[i].words))
            fail_msg("%s: '%s' does not name %s", bad[i].yaml, err.msg, bad[i].words);
        whisper_config_free(&c);
    }
}

static void test_language_codes(void **state)
{
    (void)state;
    assert_true(whisper_language_code_ok("en"));
    assert_true(whisper_language_code_ok("zh-Hant"));
    assert_true(whisper_language_code_ok("haw"));
    assert_false(whisper_language_code_ok(""));
    assert_false(whisper_language_code_ok("e n"));
    assert_false(whisper_language_code_ok("en\""));
    assert_false(whisper_language_code_ok("abcdefghijklmnop")); /* 16 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),    cmocka_unit_test(test_original_keys),
        cmocka_unit_test(test_our_keys),    cmocka_unit_test(test_no_language),
        cmocka_unit_test(test_refused),     cmocka_unit_test(test_language_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
