/* test_models.c - the model directory (src/llm/models.c): what is listed,
 * names, aliases, details and bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "llm/llm.h"

static char dir[64];

static void touch(const char *name, const char *content)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/llm-models-XXXXXX");
    assert_non_null(mkdtemp(dir));
    touch("Qwen2.5-1.5B-Instruct.hef", "hef");
    touch("qwen2-1.5b-instruct.hef", "hef!");
    touch("qwen2.5-coder-1.5b-instruct.hef", "x");
    touch("notes.txt", "not a model");
    touch("bad name.hef", "spaces are not in zoo names");
    touch(".hidden.hef", "hidden");
    char p[256], target[256];
    snprintf(p, sizeof(p), "%s/sub.hef", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(target, sizeof(target), "%s/notes.txt", dir);
    snprintf(p, sizeof(p), "%s/link-1b.hef", dir);
    assert_int_equal(symlink(target, p), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void config(llm_config *c)
{
    assert_int_equal(llm_config_defaults(c), 0);
    free(c->models_dir);
    c->models_dir = strdup(dir);
}

static void test_scan(void **state)
{
    (void)state;
    llm_config c;
    llm_models m;
    config(&c);
    assert_int_equal(llm_models_scan(&c, &m), 0);
    /* Regular *.hef files with zoo-style names only, lower-cased, sorted. */
    assert_int_equal(m.n, 3);
    assert_string_equal(m.items[0].name, "qwen2-1.5b-instruct");
    assert_string_equal(m.items[1].name, "qwen2.5-1.5b-instruct");
    assert_string_equal(m.items[2].name, "qwen2.5-coder-1.5b-instruct");
    assert_false(m.truncated);
    char want[300];
    snprintf(want, sizeof(want), "%s/Qwen2.5-1.5B-Instruct.hef", dir);
    assert_string_equal(m.items[1].path, want);
    assert_int_equal(m.items[1].bytes, 3);
    assert_string_equal(m.items[1].family, "qwen2.5");
    assert_string_equal(m.items[1].size_label, "1.5B");
    assert_string_equal(m.items[2].family, "qwen2.5-coder");
    assert_int_equal(strlen(m.items[0].digest), 16);
    assert_string_not_equal(m.items[0].digest, m.items[1].digest);
    char list[256];
    llm_models_list_text(&m, list, sizeof(list));
    assert_string_equal(list,
                        "qwen2-1.5b-instruct, qwen2.5-1.5b-instruct, qwen2.5-coder-1.5b-instruct");
    llm_models_free(&m);

    /* Bounded: the rest is left out and said so. */
    c.max_models = 2;
    assert_int_equal(llm_models_scan(&c, &m), 0);
    assert_int_equal(m.n, 2);
    assert_true(m.truncated);
    llm_models_free(&m);

    /* No directory: no models. */
    free(c.models_dir);
    c.models_dir = strdup("/nonexistent/llm");
    assert_int_equal(llm_models_scan(&c, &m), 0);
    assert_int_equal(m.n, 0);
    llm_models_list_text(&m, list, sizeof(list));
    assert_string_equal(list, "(none)");
    llm_models_free(&m);
    llm_config_free(&c);
}

static void test_find(void **state)
{
    (void)state;
    llm_config c;
    llm_models m;
    config(&c);
    assert_int_equal(llm_models_scan(&c, &m), 0);
    static const struct {
        const char *asked, *found;
    } cases[] = {
        {"qwen2.5-1.5b-instruct", "qwen2.5-1.5b-instruct"},
        {"Qwen2.5-1.5B-Instruct:latest", "qwen2.5-1.5b-instruct"},
        {"qwen2.5-instruct:1.5b", "qwen2.5-1.5b-instruct"},    /* hailo-ollama's name */
        {"qwen2:1.5b", "qwen2-1.5b-instruct"},                 /* hailo-ollama's name */
        {"qwen2.5-coder:1.5b", "qwen2.5-coder-1.5b-instruct"}, /* hailo-ollama's name */
        {"qwen2.5:1.5b", "qwen2.5-1.5b-instruct"},
        {"qwen2.5-1.5b-instruct:7b", NULL},
        {"qwen3:1.7b", NULL},
        {"", NULL},
        {"../qwen2-1.5b-instruct", NULL},
        {"notes", NULL},
        {"link-1b", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const llm_model *f = llm_models_find(&m, cases[i].asked);
        if ((f == NULL) != (cases[i].found == NULL) || (f && strcmp(f->name, cases[i].found) != 0))
            fail_msg("'%s' found '%s'", cases[i].asked, f ? f->name : "(none)");
    }
    llm_models_free(&m);
    llm_config_free(&c);
}

static void test_name_parts_and_details(void **state)
{
    (void)state;
    char fam[64], size[16];
    llm_model_name_parts("deepseek-r1-distill-qwen-1.5b", fam, sizeof(fam), size, sizeof(size));
    assert_string_equal(fam, "deepseek-r1-distill-qwen");
    assert_string_equal(size, "1.5B");
    llm_model_name_parts("llama3.2-3b-instruct", fam, sizeof(fam), size, sizeof(size));
    assert_string_equal(fam, "llama3.2");
    assert_string_equal(size, "3B");
    llm_model_name_parts("gemma-270m", fam, sizeof(fam), size, sizeof(size));
    assert_string_equal(size, "270M");
    llm_model_name_parts("tinymodel", fam, sizeof(fam), size, sizeof(size));
    assert_string_equal(fam, "tinymodel");
    assert_string_equal(size, "");
    llm_model_name_parts("1b-first", fam, sizeof(fam), size, sizeof(size));
    assert_string_equal(fam, "1b-first"); /* the first part is the family, never a size */

    llm_model m = {0};
    strcpy(m.name, "qwen2.5-1.5b-instruct");
    strcpy(m.family, "qwen2.5");
    strcpy(m.size_label, "1.5B");
    cJSON *d = llm_model_details(&m);
    char *text = cJSON_PrintUnformatted(d);
    assert_string_equal(text, "{\"parent_model\":\"\",\"format\":\"hef\",\"family\":\"qwen2.5\","
                              "\"families\":[\"qwen2.5\"],\"parameter_size\":\"1.5B\","
                              "\"quantization_level\":\"\"}");
    cJSON_free(text);
    cJSON_Delete(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_name_parts_and_details),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
