/* test_chat.c - chat request parsing and manager prompt building (src/vision/chat.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vision/vision.h"

static vision_config cfg;
/* The body of the last successful parse: image refs borrow from it. */
static cJSON *last_body;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vision_config_defaults(&cfg), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vision_config_free(&cfg);
    cJSON_Delete(last_body);
    last_body = NULL;
    return 0;
}

/* Parses `json`; expects success. */
static void parse_ok(const char *json, chat_request *req)
{
    cJSON *body = cJSON_Parse(json);
    const char *param = "unset";
    hdm_err err = {0};
    assert_non_null(body);
    int r = chat_parse(body, &cfg, req, &param, &err);
    if (r != 0)
        fail_msg("chat_parse failed: %s", err.msg);
    /* The prompt is a copy: it must serialise and stay valid on its own. */
    char *p = cJSON_PrintUnformatted(req->prompt);
    cJSON *again = cJSON_Parse(p);
    assert_non_null(again);
    cJSON_Delete(again);
    free(p);
    cJSON_Delete(last_body);
    last_body = body;
}

/* Parses `json`; expects failure with `code`, `param` and a message containing `needle`. */
static void parse_fail(const char *json, int code, const char *param, const char *needle)
{
    cJSON *body = cJSON_Parse(json);
    const char *got_param = NULL;
    hdm_err err = {0};
    chat_request req;
    assert_non_null(body);
    int r = chat_parse(body, &cfg, &req, &got_param, &err);
    assert_int_equal(r, -code);
    if (param)
        assert_string_equal(got_param, param);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    assert_null(req.prompt);
    cJSON_Delete(body);
}

static const char *msg_role(const chat_request *r, int i)
{
    return cJSON_GetObjectItem(cJSON_GetArrayItem(r->prompt, i), "role")->valuestring;
}

static const cJSON *msg_part(const chat_request *r, int i, int j)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(r->prompt, i), "content"), j);
}

static void test_string_content_gets_default_system(void **state)
{
    (void)state;
    chat_request r;
    parse_ok("{\"model\":\"qwen2-vl-2b-instruct\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"Hi\"}]}",
             &r);
    assert_int_equal(cJSON_GetArraySize(r.prompt), 2);
    assert_string_equal(msg_role(&r, 0), "system");
    assert_string_equal(cJSON_GetObjectItem(msg_part(&r, 0, 0), "text")->valuestring,
                        "You are a helpful assistant.");
    assert_string_equal(msg_role(&r, 1), "user");
    assert_string_equal(cJSON_GetObjectItem(msg_part(&r, 1, 0), "type")->valuestring, "text");
    assert_string_equal(cJSON_GetObjectItem(msg_part(&r, 1, 0), "text")->valuestring, "Hi");
    assert_int_equal(r.n_images, 0);
    /* Defaults from the config. */
    assert_true(r.params.temperature == 0.7);
    assert_true(r.params.top_p == 0.9);
    assert_int_equal(r.params.max_tokens, 200);
    assert_int_equal(r.params.seed, -1);
    assert_false(r.params.stream);
    chat_request_free(&r);
}

static void test_whole_conversation_in_order(void **state)
{
    (void)state;
    chat_request r;
    parse_ok("{\"messages\":["
             "{\"role\":\"developer\",\"content\":\"Be brief.\"},"
             "{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":"
             "\"data:image/png;base64,AAAA\"}},"
             "{\"type\":\"text\",\"text\":\"What is it?\"}]},"
             "{\"role\":\"assistant\",\"content\":\"A cat.\"},"
             "{\"role\":\"user\",\"content\":\"And its colour?\"}]}",
             &r);
    assert_int_equal(cJSON_GetArraySize(r.prompt), 4); /* no default system added */
    assert_string_equal(msg_role(&r, 0), "system");
    assert_string_equal(msg_role(&r, 1), "user");
    assert_string_equal(cJSON_GetObjectItem(msg_part(&r, 1, 0), "type")->valuestring, "image");
    assert_null(cJSON_GetObjectItem(msg_part(&r, 1, 0), "text"));
    assert_string_equal(cJSON_GetObjectItem(msg_part(&r, 1, 1), "text")->valuestring,
                        "What is it?");
    assert_string_equal(msg_role(&r, 2), "assistant");
    assert_string_equal(cJSON_GetObjectItem(msg_part(&r, 2, 0), "text")->valuestring, "A cat.");
    assert_string_equal(msg_role(&r, 3), "user");
    assert_int_equal(r.n_images, 1);
    assert_string_equal(r.images[0].ref, "data:image/png;base64,AAAA");
    assert_false(r.images[0].bare_base64);
    assert_string_equal(r.images[0].what, "messages[1].content[0]");
    chat_request_free(&r);
}

static void test_every_image_form_in_order(void **state)
{
    (void)state;
    chat_request r;
    cfg.max_images = 16;
    parse_ok(
        "{\"messages\":[{\"role\":\"user\",\"content\":["
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"file:///a.png\",\"detail\":\"low\"}},"
        "{\"type\":\"image_url\",\"image_url\":\"https://x/b.jpg\"},"
        "{\"type\":\"image\",\"image\":\"QUJD\"},"
        "{\"type\":\"image\",\"data\":\"REVG\"},"
        "{\"type\":\"image\",\"image_url\":\"data:image/webp;base64,R0hJ\"},"
        "{\"type\":\"image\",\"image_url\":{\"url\":\"file:///c.png\"}},"
        "{\"type\":\"image\",\"source\":\"SktM\"},"
        "{\"type\":\"image\",\"source\":\"data:image/png;base64,TU5P\"},"
        /* The original took the first non-empty of image, data and source. */
        "{\"type\":\"image\",\"image\":\"\",\"data\":null,\"source\":\"UFFS\"},"
        "{\"type\":\"text\",\"text\":\"compare\"}]}]}",
        &r);
    assert_int_equal(r.n_images, 9);
    const char *refs[] = {
        "file:///a.png", "https://x/b.jpg", "QUJD", "REVG", "data:image/webp;base64,R0hJ",
        "file:///c.png", "SktM", "data:image/png;base64,TU5P", "UFFS"};
    const bool bare[] = {false, false, true, true, false, false, true, true, true};
    for (int i = 0; i < 9; i++) {
        assert_string_equal(r.images[i].ref, refs[i]);
        assert_int_equal(r.images[i].bare_base64, bare[i]);
        assert_string_equal(cJSON_GetObjectItem(msg_part(&r, 1, i), "type")->valuestring, "image");
    }
    assert_string_equal(cJSON_GetObjectItem(msg_part(&r, 1, 9), "text")->valuestring, "compare");
    chat_request_free(&r);
    cfg.max_images = 8;
}

static void test_parameters(void **state)
{
    (void)state;
    chat_request r;
    parse_ok("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":0,"
             "\"top_p\":0.5,\"max_tokens\":17,\"seed\":42,\"stop\":[\"a\",\"bc\"],"
             "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"n\":1,"
             "\"user\":\"ignored\",\"frequency_penalty\":0}",
             &r);
    assert_true(r.params.temperature == 0);
    assert_true(r.params.top_p == 0.5);
    assert_int_equal(r.params.max_tokens, 17);
    assert_int_equal(r.params.seed, 42);
    assert_int_equal(r.params.n_stop, 2);
    assert_string_equal(r.params.stop[1], "bc");
    assert_true(r.params.stream);
    assert_true(r.params.include_usage);
    chat_request_free(&r);

    parse_ok("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":100000,"
             "\"stop\":\"END\",\"temperature\":null}",
             &r);
    assert_int_equal(r.params.max_tokens, 200); /* capped by generation.max_tokens */
    assert_int_equal(r.params.n_stop, 1);
    assert_string_equal(r.params.stop[0], "END");
    assert_true(r.params.temperature == 0.7);
    chat_request_free(&r);

    parse_ok("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
             "\"max_completion_tokens\":5}",
             &r);
    assert_int_equal(r.params.max_tokens, 5);
    chat_request_free(&r);
}

static void test_config_system_prompt_and_cap(void **state)
{
    (void)state;
    chat_request r;
    free(cfg.system_prompt);
    cfg.system_prompt = strdup("");
    cfg.max_tokens = 10;
    parse_ok("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":50}", &r);
    assert_int_equal(cJSON_GetArraySize(r.prompt), 1); /* empty system prompt: none added */
    assert_int_equal(r.params.max_tokens, 10);
    chat_request_free(&r);
    free(cfg.system_prompt);
    cfg.system_prompt = strdup("You are a helpful assistant.");
    cfg.max_tokens = 200;
}

static void test_bad_requests(void **state)
{
    (void)state;
    const int B = HDM_E_BAD_REQUEST;
    parse_fail("{}", B, "messages", "messages must be a non-empty list");
    parse_fail("{\"messages\":[]}", B, "messages", "non-empty");
    parse_fail("{\"messages\":\"hi\"}", B, "messages", "non-empty");
    parse_fail("{\"messages\":[42]}", B, "messages", "messages[0] must be an object");
    parse_fail("{\"messages\":[{\"content\":\"x\"}]}", B, "messages", "messages[0].role");
    parse_fail("{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", B, "messages",
               "not \"tool\"");
    parse_fail("{\"messages\":[{\"role\":\"user\"}]}", B, "messages",
               "messages[0].content must be a string or a list");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":7}]}", B, "messages",
               "messages[0].content");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":[]}]}", B, "messages",
               "must not be an empty list");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]}", B,
               "messages", "messages[0].content[0].type");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]}", B, "messages",
               "string \"type\"");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]}", B,
               "messages", "messages[0].content[0].text must be a string");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", B,
               "messages", "image_url must be an object {url} or a URL string");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
               "\"image_url\":{\"detail\":\"low\"}}]}]}",
               B, "messages", "image_url.url must be a non-empty string");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\"}]}]}", B,
               "messages", "needs an image");
    parse_fail("{\"messages\":[{\"role\":\"assistant\",\"content\":[{\"type\":\"image\","
               "\"image\":\"QUJD\"}]}]}",
               B, "messages", "only allowed in user messages");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":3}", B,
               "temperature", "between 0 and 2");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":\"hot\"}", B,
               "temperature", "temperature");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":1.5}", B, "top_p",
               "top_p");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}", B,
               "max_tokens", "integer");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":2.5}", B,
               "max_tokens", "integer");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":-3}", B, "seed",
               "seed");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}", B, "n",
               "n must be");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
               "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}",
               B, "stop", "at most 4");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[1]}", B, "stop",
               "stop[0] must be a string");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":5}", B, "stop",
               "stop must be");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}", B,
               "stream", "boolean");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_options\":1}", B,
               "stream_options", "object");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":5}", B, "model",
               "model must be a string");
    parse_fail("[1]", B, NULL, "JSON object");
    char big[600] = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":\"";
    size_t n = strlen(big);
    memset(big + n, 'z', 300);
    strcpy(big + n + 300, "\"}");
    parse_fail(big, B, "stop", "longer than 256 bytes");
}

/* The original served any model name with its one model. */
static void test_any_model_name_is_served(void **state)
{
    (void)state;
    chat_request r;
    parse_ok("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
             &r);
    chat_request_free(&r);
    parse_ok("{\"model\":\"\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &r);
    chat_request_free(&r);
}

static void test_image_part_errors_name_the_field(void **state)
{
    (void)state;
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\","
               "\"source\":{\"type\":\"base64\",\"data\":\"QQ==\"}}]}]}",
               HDM_E_BAD_REQUEST, "messages", "messages[0].content[0].source must be a string");
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\","
               "\"image\":\"\"}]}]}",
               HDM_E_BAD_REQUEST, "messages", "image, data, source or image_url");
}

static void test_too_many_images(void **state)
{
    (void)state;
    cfg.max_images = 2;
    parse_fail("{\"messages\":[{\"role\":\"user\",\"content\":["
               "{\"type\":\"image\",\"image\":\"QQ==\"},{\"type\":\"image\",\"image\":\"QQ==\"},"
               "{\"type\":\"image\",\"image\":\"QQ==\"}]}]}",
               HDM_E_BAD_REQUEST, "messages", "too many images");
    cfg.max_images = 8;
}

static void test_too_many_messages(void **state)
{
    (void)state;
    char *body = malloc(300 * 40 + 64);
    size_t o = (size_t)sprintf(body, "{\"messages\":[");
    for (int i = 0; i < 300; i++)
        o += (size_t)sprintf(body + o, "%s{\"role\":\"user\",\"content\":\"m\"}", i ? "," : "");
    strcpy(body + o, "]}");
    parse_fail(body, HDM_E_BAD_REQUEST, "messages", "more than 255");
    free(body);
}

static void test_params_only(void **state)
{
    (void)state;
    chat_params p;
    const char *param;
    hdm_err err = {0};
    cJSON *body = cJSON_Parse("{\"temperature\":1.5,\"max_tokens\":3}");
    assert_int_equal(chat_parse_params(body, &cfg, &p, &param, &err), 0);
    assert_true(p.temperature == 1.5);
    assert_int_equal(p.max_tokens, 3);
    chat_params_free(&p);
    cJSON_Delete(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_content_gets_default_system),
        cmocka_unit_test(test_whole_conversation_in_order),
        cmocka_unit_test(test_every_image_form_in_order),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_config_system_prompt_and_cap),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_any_model_name_is_served),
        cmocka_unit_test(test_image_part_errors_name_the_field),
        cmocka_unit_test(test_too_many_images),
        cmocka_unit_test(test_too_many_messages),
        cmocka_unit_test(test_params_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
