/* test_config.c - hailo-vision's YAML keys (src/vision/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "vision/vision.h"

static const char yaml[] = "server:\n"
                           "  host: 127.0.0.1\n"
                           "  port: 18080\n"
                           "  threads: 3\n"
                           "  max_body_bytes: 100000\n"
                           "model:\n"
                           "  name: my-vlm\n"
                           "  hef_path: /models/vlm.hef\n"
                           "  keep_alive: 30\n"
                           "generation:\n"
                           "  temperature: 0.2\n"
                           "  max_tokens: 64\n"
                           "  top_p: 0.8\n"
                           "  seed: 7\n"
                           "  system_prompt: Answer briefly.\n"
                           "images:\n"
                           "  allowed_dirs: [/srv/a, /srv/b]\n"
                           "  allow_remote: true\n"
                           "  max_bytes: 1000\n"
                           "  max_pixels: 2000\n"
                           "  fetch_timeout_ms: 300\n";

static void test_all_keys(void **state)
{
    (void)state;
    vision_config c;
    hdm_err err = {0};
    assert_int_equal(vision_config_defaults(&c), 0);
    int r = conf_load_string(yaml, sizeof(yaml) - 1, "t.yaml", vision_config_keys, &c, NULL, NULL,
                             &err);
    if (r != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(vision_config_check(&c, &err), 0);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 18080);
    assert_int_equal(c.threads, 3);
    assert_int_equal(c.max_body_bytes, 100000);
    assert_string_equal(c.model_name, "my-vlm");
    assert_string_equal(c.hef_path, "/models/vlm.hef");
    assert_true(c.keep_alive == 30);
    assert_true(c.temperature == 0.2);
    assert_int_equal(c.max_tokens, 64);
    assert_true(c.top_p == 0.8);
    assert_int_equal(c.seed, 7);
    assert_string_equal(c.system_prompt, "Answer briefly.");
    assert_int_equal(c.allowed_dirs.n, 2);
    assert_string_equal(c.allowed_dirs.items[1], "/srv/b");
    assert_true(c.allow_remote);
    assert_int_equal(c.image_max_bytes, 1000);
    assert_int_equal(c.image_max_pixels, 2000);
    assert_int_equal(c.fetch_timeout_ms, 300);
    vision_config_free(&c);
}

static void test_defaults(void **state)
{
    (void)state;
    vision_config c;
    hdm_err err = {0};
    assert_int_equal(vision_config_defaults(&c), 0);
    assert_int_equal(vision_config_resolve_hef(&c, NULL, &err), 0);
    assert_int_equal(vision_config_check(&c, &err), 0);
    assert_string_equal(c.host, "0.0.0.0");
    assert_int_equal(c.port, 11435);
    assert_string_equal(c.model_name, "qwen2-vl-2b-instruct");
    assert_true(c.temperature == 0.7);
    assert_int_equal(c.max_tokens, 200);
    assert_true(c.top_p == 0.9);
    assert_false(c.allow_remote);
    vision_config_free(&c);
}

static void expect_bad(const char *text, const char *needle)
{
    vision_config c;
    hdm_err err = {0};
    assert_int_equal(vision_config_defaults(&c), 0);
    int r =
        conf_load_string(text, strlen(text), "t.yaml", vision_config_keys, &c, NULL, NULL, &err);
    if (r == 0)
        r = vision_config_resolve_hef(&c, NULL, &err);
    if (r == 0)
        r = vision_config_check(&c, &err);
    assert_true(r < 0);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    vision_config_free(&c);
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_bad("generation:\n  temperature: 5\n", "t.yaml:2");
    expect_bad("server:\n  port: 70000\n", "t.yaml:2");
    expect_bad("model:\n  hef_path: models/relative.hef\n", "model.hef_path");
    expect_bad("model:\n  keep_alive: -5\n", "t.yaml:2");
    expect_bad("images:\n  allowed_dirs: [rel/dir]\n", "images.allowed_dirs[0]");
}

/* A scratch tree with two model roots; the second holds the default model. */
static char tmp[64];
static char root_a[96], root_b[96];

static void make_tree(void)
{
    snprintf(tmp, sizeof(tmp), "/tmp/vision-conf-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    snprintf(root_a, sizeof(root_a), "%s/a", tmp);
    snprintf(root_b, sizeof(root_b), "%s/b", tmp);
    assert_int_equal(mkdir(root_a, 0755), 0);
    assert_int_equal(mkdir(root_b, 0755), 0);
    char path[160];
    snprintf(path, sizeof(path), "%s/" VISION_DEFAULT_HEF_NAME ".hef", root_b);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/Other.hef", root_a);
    assert_non_null(f = fopen(path, "w"));
    fclose(f);
}

static void remove_tree(void)
{
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    assert_int_equal(system(cmd), 0);
}

/* hef_path from text (NULL: key absent) resolved over root_a, root_b. */
static int resolve(const char *text, vision_config *c, hdm_err *err)
{
    const char *roots[] = {root_a, root_b, NULL};
    assert_int_equal(vision_config_defaults(c), 0);
    if (text && conf_load_string(text, strlen(text), "t.yaml", vision_config_keys, c, NULL, NULL,
                                 err) < 0)
        return -1;
    return vision_config_resolve_hef(c, roots, err);
}

static void expect_hef(const char *text, const char *want_fmt, const char *want_root)
{
    vision_config c;
    hdm_err err = {0};
    char want[192];
    if (resolve(text, &c, &err) < 0)
        fail_msg("%s", err.msg);
    snprintf(want, sizeof(want), want_fmt, want_root);
    assert_string_equal(c.hef_path, want);
    assert_int_equal(vision_config_check(&c, &err), 0);
    vision_config_free(&c);
}

/* The original ships "hef_path: null" and finds the model in its own tree;
 * a model name is looked for the same way; a path is a path. */
static void test_hef_path_resolution(void **state)
{
    (void)state;
    make_tree();
    const char *dflt = "%s/" VISION_DEFAULT_HEF_NAME ".hef";
    expect_hef(NULL, dflt, root_b);                          /* key absent */
    expect_hef("model:\n  hef_path:\n", dflt, root_b);      /* empty */
    expect_hef("model:\n  hef_path: null\n", dflt, root_b); /* as the original ships it */
    expect_hef("model:\n  hef_path: " VISION_DEFAULT_HEF_NAME "\n", dflt, root_b);
    expect_hef("model:\n  hef_path: Other.hef\n", "%s/Other.hef", root_a);
    expect_hef("model:\n  hef_path: Other\n", "%s/Other.hef", root_a);
    /* In no root yet: the first root's candidate, for the manager to refuse by name. */
    expect_hef("model:\n  hef_path: Missing\n", "%s/Missing.hef", root_a);
    expect_hef("model:\n  hef_path: /srv/m.hef\n", "/srv/m.hef%s", "");
    vision_config c;
    hdm_err err = {0};
    assert_true(resolve("model:\n  hef_path: models/x.hef\n", &c, &err) < 0);
    assert_non_null(strstr(err.msg, "absolute path or a model name"));
    vision_config_free(&c);
    remove_tree();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_hef_path_resolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
