/*
 * test_infer_input.c - input_data parsers, model_params checks and the
 * UTF-8 validator of src/manager/infer_input.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/base64.h"
#include "manager/infer_input.h"

static job *new_job(model_kind kind)
{
    job *j = calloc(1, sizeof(*j));
    assert_non_null(j);
    j->kind = kind;
    j->action = JOB_INFER;
    j->input.kind = kind;
    return j;
}

/* Parses `json` as input_data for kind; returns the rc and leaves err. */
static int parse(job *j, const char *json, hdm_err *err)
{
    cJSON *in = cJSON_Parse(json);
    assert_non_null(in);
    hdm_err_clear(err);
    int rc = infer_input_parse(j, in, NULL, 0, err);
    cJSON_Delete(in);
    return rc;
}

static char *b64_of(size_t n)
{
    uint8_t *raw = calloc(1, n ? n : 1);
    char *out = malloc(base64_encoded_len(n) + 1);
    base64_encode(raw, n, out);
    free(raw);
    return out;
}

static void test_vlm_string_prompt_defaults(void **state)
{
    (void)state;
    job *j = new_job(MODEL_VLM);
    hdm_err err;
    assert_int_equal(parse(j, "{\"prompt\": \"hello\"}", &err), 0);
    assert_string_equal(j->input.u.vlm.prompt, "hello");
    assert_int_equal(j->input.u.vlm.max_tokens, 200);
    assert_true(j->input.u.vlm.temperature > 0.69 && j->input.u.vlm.temperature < 0.71);
    assert_false(j->input.u.vlm.has_seed);
    job_free(j);
}

static void test_vlm_messages(void **state)
{
    (void)state;
    job *j = new_job(MODEL_VLM);
    hdm_err err;
    char *b64 = b64_of(4 * 4 * 3);
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"prompt\": [{\"role\": \"system\", \"content\": \"sys\"},"
             " {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"a\"},"
             " {\"type\": \"image\"}, {\"type\": \"text\", \"text\": \"b\"}]}],"
             " \"frames\": [{\"dtype\": \"uint8\", \"shape\": [4, 4, 3], \"data_b64\": \"%s\"}],"
             " \"seed\": 9, \"stop\": [\"x\", \"yy\"], \"max_generated_tokens\": 5,"
             " \"temperature\": null}",
             b64);
    assert_int_equal(parse(j, json, &err), 0);
    assert_int_equal(j->input.u.vlm.n_messages, 2);
    assert_string_equal(j->input.u.vlm.messages[1].role, "user");
    assert_string_equal(j->input.u.vlm.messages[1].text, "a\nb");
    assert_int_equal(j->input.u.vlm.messages[1].n_images, 1);
    assert_int_equal(j->input.u.vlm.n_frames, 1);
    assert_int_equal(j->input.u.vlm.frames[0].nbytes, 48);
    assert_true(j->input.u.vlm.has_seed);
    assert_int_equal(j->input.u.vlm.seed, 9);
    assert_int_equal(j->input.u.vlm.n_stop, 2);
    assert_string_equal(j->input.u.vlm.stop[1], "yy");
    assert_int_equal(j->input.u.vlm.max_tokens, 5);
    assert_int_equal(j->n_owned, 1);
    free(b64);
    job_free(j);
}

static void test_vlm_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"{}", "input_data.prompt required"},
        {"{\"prompt\": \"\"}", "must not be empty"},
        {"{\"prompt\": []}", "must not be empty"},
        {"{\"prompt\": [{\"role\": \"user\", \"content\": [{\"type\": \"image\"}]}]}",
         "1 image parts but 0 frames"},
        {"{\"prompt\": [{\"role\": \"bot\", \"content\": \"x\"}]}", "role must be"},
        {"{\"prompt\": [{\"content\": \"x\"}]}", "prompt[0].role required"},
        {"{\"prompt\": [{\"role\": \"user\"}]}", "prompt[0].content"},
        {"{\"prompt\": \"x\", \"top_p\": 2}", "input_data.top_p"},
        {"{\"prompt\": \"x\", \"seed\": 1.5}", "input_data.seed must be an integer"},
        {"{\"prompt\": \"x\", \"stop\": 3}", "input_data.stop"},
        {"{\"prompt\": \"x\", \"frames\": {}}", "input_data.frames must be a list"},
        {"{\"prompt\": \"x\", \"frames\": [{\"dtype\": \"uint8\"}]}",
         "tensor must include dtype, shape, and data_b64"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        job *j = new_job(MODEL_VLM);
        hdm_err err;
        int rc = parse(j, cases[i].json, &err);
        if (rc >= 0 || !strstr(err.msg, cases[i].needle))
            fail_msg("case %zu (%s): rc %d, message '%s'", i, cases[i].json, rc, err.msg);
        job_free(j);
    }
}

static void test_vlm_limits(void **state)
{
    (void)state;
    buf b = {0};
    buf_printf(&b, "{\"prompt\": [");
    for (int i = 0; i <= INPUT_MAX_MESSAGES; i++)
        buf_printf(&b, "%s{\"role\": \"user\", \"content\": \"m\"}", i ? "," : "");
    buf_printf(&b, "]}");
    buf_append(&b, "", 1);
    job *j = new_job(MODEL_VLM);
    hdm_err err;
    assert_int_equal(parse(j, (char *)b.data, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "messages"));
    job_free(j);
    buf_free(&b);

    char *big = malloc(INPUT_MAX_TEXT + 64);
    strcpy(big, "{\"prompt\": \"");
    memset(big + 12, 'a', INPUT_MAX_TEXT + 1);
    strcpy(big + 12 + INPUT_MAX_TEXT + 1, "\"}");
    j = new_job(MODEL_VLM);
    assert_int_equal(parse(j, big, &err), -HDM_E_TOO_LARGE);
    job_free(j);
    free(big);
}

static void test_llm_messages_and_options(void **state)
{
    (void)state;
    job *j = new_job(MODEL_LLM);
    hdm_err err;
    assert_int_equal(
        parse(j,
              "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
              " {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"a\"},"
              "  {\"type\": \"text\", \"text\": \"b\"}]},"
              " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"c1\","
              "  \"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": "
              "  \"{\\\"x\\\": 1}\"}}]},"
              " {\"role\": \"tool\", \"content\": \"42\", \"tool_name\": \"f\"}],"
              " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\","
              "  \"parameters\": {\"type\": \"object\"}}}],"
              " \"temperature\": 0, \"top_p\": 0.5, \"top_k\": 40, \"frequency_penalty\": -1,"
              " \"seed\": 4294967294, \"max_generated_tokens\": 7, \"stop\": \"END\","
              " \"format\": \"json\"}",
              &err),
        0);
    const llm_input *li = &j->input.u.llm;
    assert_int_equal(li->n_messages, 4);
    assert_null(li->prompt);
    assert_int_equal(li->messages[0].role, LLM_ROLE_SYSTEM);
    assert_string_equal(li->messages[1].content, "a\nb");
    assert_int_equal(li->messages[2].role, LLM_ROLE_ASSISTANT);
    assert_string_equal(li->messages[2].content, "");
    /* Arguments given as a JSON string become an object. */
    char *calls = cJSON_PrintUnformatted(li->messages[2].tool_calls);
    assert_string_equal(calls, "[{\"function\":{\"name\":\"f\",\"arguments\":{\"x\":1}}}]");
    cJSON_free(calls);
    assert_string_equal(li->messages[3].tool_name, "f");
    assert_int_equal(cJSON_GetArraySize(li->tools), 1);
    assert_true(li->has_temperature && li->temperature == 0);
    assert_true(li->has_top_p && li->has_top_k && li->top_k == 40);
    assert_true(li->has_frequency_penalty && li->frequency_penalty == -1);
    assert_true(li->has_seed && li->seed == 4294967294u);
    assert_int_equal(li->max_tokens, 7);
    assert_int_equal(li->n_stop, 1);
    assert_string_equal(li->stop[0], "END");
    assert_int_equal(li->format, LLM_FORMAT_JSON);
    job_free(j);

    /* Defaults: the model's own (nothing set); a raw prompt. */
    j = new_job(MODEL_LLM);
    assert_int_equal(parse(j, "{\"prompt\": \"raw\", \"temperature\": null}", &err), 0);
    li = &j->input.u.llm;
    assert_string_equal(li->prompt, "raw");
    assert_false(li->has_temperature || li->has_top_p || li->has_top_k || li->has_seed ||
                 li->has_frequency_penalty);
    assert_int_equal(li->max_tokens, 0);
    assert_int_equal(li->format, LLM_FORMAT_TEXT);
    job_free(j);
}

static void test_llm_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *needle;
        int rc;
    } cases[] = {
        {"{}", "input_data.messages required", -HDM_E_BAD_REQUEST},
        {"{\"messages\": []}", "input_data.messages must not be empty", -HDM_E_BAD_REQUEST},
        {"{\"messages\": {}}", "must be a list of chat messages", -HDM_E_BAD_REQUEST},
        {"{\"prompt\": \"\"}", "input_data.prompt must not be empty", -HDM_E_BAD_REQUEST},
        {"{\"prompt\": \"x\", \"messages\": [{\"role\": \"user\"}]}", "not both",
         -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}",
         "messages[0].role must be system, user, assistant or tool, not 'robot'",
         -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"content\": \"x\"}]}", "messages[0].role required", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\", \"content\": 5}]}",
         "messages[0].content must be a string", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image\"}]}]}",
         "an llm model takes text only", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\", \"content\": \"x\", \"tool_calls\": []}]}",
         "only assistant messages carry tool calls", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": [{\"function\": {\"name\":"
         " \"f\", \"arguments\": \"not json\"}}]}]}",
         "arguments must be a JSON object", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"assistant\", \"tool_calls\": [{\"function\": {}}]}]}",
         "tool_calls[0].function.name must be a non-empty string", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\"}], \"tools\": [{\"type\": \"web\"}]}",
         "input_data.tools[0] must be", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\"}], \"tools\": [{\"function\": {\"name\": \"f\","
         " \"parameters\": 3}}]}",
         "parameters must be a JSON schema object", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\"}], \"top_k\": 0}", "input_data.top_k",
         -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\"}], \"seed\": 4294967295}", "input_data.seed",
         -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\"}], \"max_generated_tokens\": 1000000000}",
         "input_data.max_generated_tokens must be between 1 and 16384", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\"}], \"format\": \"xml\"}",
         "input_data.format must be \"json\"", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\"}], \"stop\": [\"\"]}",
         "input_data.stop[0] must be a non-empty string", -HDM_E_BAD_REQUEST},
        {"{\"messages\": [{\"role\": \"user\"}], \"frequency_penalty\": 3}",
         "input_data.frequency_penalty", -HDM_E_BAD_REQUEST},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        job *j = new_job(MODEL_LLM);
        hdm_err err;
        int rc = parse(j, cases[i].json, &err);
        if (rc != cases[i].rc || !strstr(err.msg, cases[i].needle))
            fail_msg("case %zu (%s): rc %d, message '%s'", i, cases[i].json, rc, err.msg);
        job_free(j);
    }

    /* The text of all messages together is bounded. */
    size_t half = INPUT_MAX_TEXT / 2 + 16;
    char *big = malloc(2 * half + 256);
    size_t n = (size_t)sprintf(big, "{\"messages\": [{\"role\": \"user\", \"content\": \"");
    memset(big + n, 'a', half);
    n += half;
    n += (size_t)sprintf(big + n, "\"}, {\"role\": \"user\", \"content\": \"");
    memset(big + n, 'b', half);
    n += half;
    strcpy(big + n, "\"}]}");
    job *j = new_job(MODEL_LLM);
    hdm_err err;
    assert_int_equal(parse(j, big, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "text exceeds"));
    job_free(j);
    free(big);
}

static void test_clip(void **state)
{
    (void)state;
    hdm_err err;
    char *b64 = b64_of(2 * 2 * 3);
    char json[512];
    snprintf(json, sizeof(json),
             "{\"mode\": \"image\", \"tensor\": {\"dtype\": \"uint8\", \"shape\": [1, 2, 2, 3],"
             " \"data_b64\": \"%s\"}}",
             b64);
    job *j = new_job(MODEL_CLIP);
    assert_int_equal(parse(j, json, &err), 0);
    assert_int_equal(j->input.u.clip.mode, CLIP_MODE_IMAGE);
    assert_int_equal(j->input.u.clip.timeout_ms, 1000);
    assert_int_equal(j->input.u.clip.tensor.ndim, 4);
    job_free(j);

    j = new_job(MODEL_CLIP);
    assert_int_equal(parse(j, "{\"mode\": \"video\"}", &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "clip mode must be 'image' or 'text'");
    job_free(j);

    j = new_job(MODEL_CLIP);
    assert_int_equal(parse(j, "{\"mode\": \"text\"}", &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "tensor is required for clip inference");
    job_free(j);

    /* text mode wants float32 */
    snprintf(json, sizeof(json),
             "{\"mode\": \"text\", \"tensor\": {\"dtype\": \"uint8\", \"shape\": [1, 2, 2, 3],"
             " \"data_b64\": \"%s\"}}",
             b64);
    j = new_job(MODEL_CLIP);
    assert_int_equal(parse(j, json, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "float32"));
    job_free(j);
    free(b64);
}

static void test_whisper(void **state)
{
    (void)state;
    hdm_err err;
    job *j = new_job(MODEL_WHISPER);
    assert_int_equal(parse(j, "{\"audio\": [0.5, -0.25, 1], \"language\": \"de\"}", &err), 0);
    assert_int_equal(j->input.u.whisper.audio.shape[0], 3);
    assert_true(((float *)j->input.u.whisper.audio.data)[1] == -0.25f);
    assert_string_equal(j->input.u.whisper.language, "de");
    assert_int_equal(j->input.u.whisper.task, WHISPER_TRANSCRIBE);
    job_free(j);

    j = new_job(MODEL_WHISPER);
    assert_int_equal(parse(j, "{\"audio\": [0.5, \"x\"]}", &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "input_data.audio[1]"));
    job_free(j);

    j = new_job(MODEL_WHISPER);
    assert_int_equal(parse(j, "{\"audio\": [1], \"language\": \"e n\"}", &err), -HDM_E_BAD_REQUEST);
    job_free(j);

    /* No language, or null, is "detect it" (empty), never a forced "en":
     * a translation from an unnamed language must reach the model as such. */
    j = new_job(MODEL_WHISPER);
    assert_int_equal(parse(j, "{\"audio\": [1], \"task\": \"translate\"}", &err), 0);
    assert_string_equal(j->input.u.whisper.language, "");
    assert_int_equal(j->input.u.whisper.task, WHISPER_TRANSLATE);
    job_free(j);
    j = new_job(MODEL_WHISPER);
    assert_int_equal(parse(j, "{\"audio\": [1], \"language\": null}", &err), 0);
    assert_string_equal(j->input.u.whisper.language, "");
    job_free(j);
    j = new_job(MODEL_WHISPER);
    assert_int_equal(parse(j, "{\"audio\": [1], \"language\": \"\"}", &err), -HDM_E_BAD_REQUEST);
    job_free(j);
}

static void test_ocr_and_dense(void **state)
{
    (void)state;
    hdm_err err;
    job *j = new_job(MODEL_OCR);
    assert_int_equal(
        parse(j, "{\"mode\": \"recognition\", \"crops\": [], \"batch_size\": 4}", &err), 0);
    assert_int_equal(j->input.u.ocr.mode, OCR_MODE_RECOGNITION);
    assert_string_equal(j->input.u.ocr.language, "en");
    assert_int_equal(j->input.u.ocr.batch_size, 4);
    job_free(j);

    j = new_job(MODEL_OCR);
    assert_int_equal(parse(j, "{\"mode\": \"detection\"}", &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "input_data.image"));
    job_free(j);

    j = new_job(MODEL_DEPTH);
    assert_int_equal(parse(j, "{}", &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "input_data.input required");
    job_free(j);

    j = new_job(MODEL_POSE);
    assert_int_equal(parse(j, "[]", &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "input_data must be an object");
    job_free(j);
}

static void test_model_params(void **state)
{
    (void)state;
    char dir[] = "/tmp/hdm-ii-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char img[256], txt[256];
    snprintf(img, sizeof(img), "%s/img.hef", dir);
    snprintf(txt, sizeof(txt), "%s/txt.hef", dir);
    FILE *f = fopen(img, "w");
    fclose(f);
    f = fopen(txt, "w");
    fclose(f);
    path_allowlist allow = {0};
    assert_int_equal(path_allowlist_parse(&allow, dir), 0);
    modelpath_resolver res = {.allow = &allow};

    char json[1024];
    snprintf(json, sizeof(json),
             "{\"image_hef_path\": \"%s\", \"text_hef_path\": \"%s\","
             " \"text_input_layer\": \"in\", \"text_output_layer\": \"out\"}",
             img, txt);
    cJSON *p = cJSON_Parse(json);
    job *j = new_job(MODEL_CLIP);
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(infer_model_params_check(j, p, &res, true, &err), 0);
    assert_non_null(j->clip_image_hef);
    assert_string_equal(j->clip_text_input, "in");
    job_free(j);

    cJSON_DeleteItemFromObject(p, "text_output_layer");
    j = new_job(MODEL_CLIP);
    assert_int_equal(infer_model_params_check(j, p, &res, true, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "model_params.text_output_layer required");
    job_free(j);
    cJSON_Delete(p);

    /* Not required on infer, but checked when given. */
    j = new_job(MODEL_CLIP);
    assert_int_equal(infer_model_params_check(j, NULL, &res, false, &err), 0);
    job_free(j);
    p = cJSON_Parse("{\"image_hef_path\": \"/etc/passwd\"}");
    j = new_job(MODEL_CLIP);
    /* Outside the allowed directories reads as missing (no existence oracle). */
    assert_int_equal(infer_model_params_check(j, p, &res, false, &err), -HDM_E_NOT_FOUND);
    assert_string_equal(err.msg, "model_params.image_hef_path not found: /etc/passwd");
    job_free(j);
    cJSON_Delete(p);

    p = cJSON_Parse("[1]");
    j = new_job(MODEL_DEPTH);
    assert_int_equal(infer_model_params_check(j, p, &res, true, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "model_params must be an object");
    job_free(j);
    cJSON_Delete(p);

    path_allowlist_free(&allow);
    unlink(img);
    unlink(txt);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vlm_string_prompt_defaults),
        cmocka_unit_test(test_vlm_messages),
        cmocka_unit_test(test_vlm_errors),
        cmocka_unit_test(test_vlm_limits),
        cmocka_unit_test(test_llm_messages_and_options),
        cmocka_unit_test(test_llm_errors),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_whisper),
        cmocka_unit_test(test_ocr_and_dense),
        cmocka_unit_test(test_model_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
