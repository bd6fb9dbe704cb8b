/*
 * test_sim_llm.c - the sim LLM (src/backends/sim-llm.c): its chat template
 * and the token counts that follow from it, determinism from the
 * conversation and seed, streaming, max tokens and the context, stop
 * strings, JSON mode, tool calls and a raw prompt.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "sim_test_util.h"

typedef struct llm_fixture {
    simt t;
    char *path;
    backend_model *m;
} llm_fixture;

static int setup(void **state)
{
    llm_fixture *f = calloc(1, sizeof(*f));
    simt_setup(&f->t, "{\"latency_scale\": 0}");
    f->path = simt_model(&f->t, "qwen2.5-1.5b-instruct.hef", NULL);
    f->m = simt_load(&f->t, MODEL_LLM, f->path, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    llm_fixture *f = *state;
    backend_sim_ops.unload(f->t.b, f->m);
    simt_teardown(&f->t);
    free(f->path);
    free(f);
    return 0;
}

typedef struct deltas {
    buf all;
    int count;
} deltas;

static void on_delta(void *ctx, const char *text, size_t len)
{
    deltas *d = ctx;
    assert_true(len > 0);
    assert_true(simt_utf8_valid(text, len));
    assert_int_equal(buf_append(&d->all, text, len), 0);
    d->count++;
}

/* A conversation built in place: roles and texts alternate in `turns`. */
typedef struct convo {
    infer_input in;
    llm_message msgs[8];
} convo;

static void convo_init(convo *c, const char *const *turns, size_t n)
{
    memset(c, 0, sizeof(*c));
    c->in.kind = MODEL_LLM;
    for (size_t i = 0; i < n; i++) {
        const char *role = turns[2 * i];
        c->msgs[i].role = strcmp(role, "system") == 0      ? LLM_ROLE_SYSTEM
                          : strcmp(role, "assistant") == 0 ? LLM_ROLE_ASSISTANT
                          : strcmp(role, "tool") == 0      ? LLM_ROLE_TOOL
                                                           : LLM_ROLE_USER;
        c->msgs[i].content = (char *)turns[2 * i + 1];
    }
    c->in.u.llm.messages = c->msgs;
    c->in.u.llm.n_messages = n;
}

/* Runs a generation; returns the text (malloc'd); rc in *rc when not NULL. */
static char *generate(llm_fixture *f, const infer_input *in, infer_output *out, deltas *d)
{
    infer_hooks hooks = {.on_delta = on_delta, .ctx = d};
    hdm_err err = {0};
    memset(out, 0, sizeof(*out));
    memset(d, 0, sizeof(*d));
    int rc = backend_sim_ops.infer(f->t.b, f->m, in, &hooks, out, &err);
    if (rc != 0)
        fail_msg("infer failed: %s", err.msg);
    assert_true(cJSON_IsString(out->result));
    char *text = strdup(out->result->valuestring);
    /* The deltas add up to the result. */
    assert_int_equal(d->all.len, strlen(text));
    assert_memory_equal(d->all.data, text, d->all.len);
    buf_free(&d->all);
    return text;
}

static void test_template_and_counts(void **state)
{
    (void)state;
    static const char *const turns[] = {"user", "Hello there"};
    convo c;
    convo_init(&c, turns, 1);
    buf t = {0};
    assert_int_equal(sim_llm_render(&c.in.u.llm, &t), 0);
    assert_int_equal(buf_append(&t, "", 1), 0);
    assert_string_equal((char *)t.data,
                        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a "
                        "helpful assistant.<|im_end|>\n<|im_start|>user\nHello there<|im_end|>\n"
                        "<|im_start|>assistant\n");
    /* Special tokens count one each; the rest as the sim tokenizer splits it. */
    const char *mini = "<|im_start|>user\nHi<|im_end|>";
    assert_int_equal(sim_llm_token_count(mini, strlen(mini)), 5);
    buf_free(&t);

    /* A system message replaces the default one; tool turns join one user turn. */
    static const char *const turns2[] = {"system", "Be brief.", "user", "Weather?",
                                         "tool",   "sunny",     "tool", "warm"};
    convo_init(&c, turns2, 4);
    c.msgs[2].tool_name = "get_weather";
    assert_int_equal(sim_llm_render(&c.in.u.llm, &t), 0);
    assert_int_equal(buf_append(&t, "", 1), 0);
    assert_string_equal((char *)t.data,
                        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWeather?"
                        "<|im_end|>\n<|im_start|>user\n<tool_response>\nsunny\n</tool_response>\n"
                        "<tool_response>\nwarm\n</tool_response><|im_end|>\n"
                        "<|im_start|>assistant\n");
    buf_free(&t);
}

static void test_generation(void **state)
{
    llm_fixture *f = *state;
    static const char *const turns[] = {"user", "Tell me about penguins and glaciers"};
    convo c;
    convo_init(&c, turns, 1);
    infer_output out;
    deltas d;
    char *a = generate(f, &c.in, &out, &d);
    assert_non_null(strstr(a, "simulated"));
    assert_non_null(strstr(a, "penguins"));
    assert_true(d.count > 5);
    assert_int_equal(out.completion_tokens, sim_token_count(a, strlen(a)));
    assert_string_equal(out.finish_reason, "stop");
    /* The prompt count is the rendered template's. */
    buf t = {0};
    assert_int_equal(sim_llm_render(&c.in.u.llm, &t), 0);
    assert_int_equal(out.prompt_tokens, sim_llm_token_count((char *)t.data, t.len));
    buf_free(&t);
    infer_output_clear(&out);

    /* Same conversation and seed: same answer; another seed: another one. */
    c.in.u.llm.has_seed = true;
    c.in.u.llm.seed = 7;
    char *s7 = generate(f, &c.in, &out, &d);
    infer_output_clear(&out);
    char *s7b = generate(f, &c.in, &out, &d);
    infer_output_clear(&out);
    assert_string_equal(s7, s7b);
    int differs = 0;
    for (uint32_t seed = 8; seed < 16 && !differs; seed++) {
        c.in.u.llm.seed = seed;
        char *o = generate(f, &c.in, &out, &d);
        infer_output_clear(&out);
        differs = strcmp(o, s7) != 0;
        free(o);
    }
    assert_true(differs);
    /* Greedy (temperature 0) ignores the seed. */
    c.in.u.llm.has_temperature = true;
    c.in.u.llm.temperature = 0;
    char *g1 = generate(f, &c.in, &out, &d);
    infer_output_clear(&out);
    c.in.u.llm.seed = 99;
    char *g2 = generate(f, &c.in, &out, &d);
    infer_output_clear(&out);
    assert_string_equal(g1, g2);
    free(a);
    free(s7);
    free(s7b);
    free(g1);
    free(g2);
}

static void test_multi_turn(void **state)
{
    llm_fixture *f = *state;
    static const char *const turns[] = {"user",      "What do owls eat?",
                                        "assistant", "Mice, mostly.",
                                        "user",      "And where do they sleep?"};
    convo c;
    convo_init(&c, turns, 3);
    infer_output out;
    deltas d;
    char *a = generate(f, &c.in, &out, &d);
    assert_non_null(strstr(a, "sleep"));
    assert_non_null(strstr(a, "Earlier you mentioned owls"));
    infer_output_clear(&out);
    free(a);
}

static void test_max_tokens_and_stop(void **state)
{
    llm_fixture *f = *state;
    static const char *const turns[] = {"user", "Describe a harbour"};
    convo c;
    convo_init(&c, turns, 1);
    infer_output out;
    deltas d;
    char *full = generate(f, &c.in, &out, &d);
    infer_output_clear(&out);
    c.in.u.llm.max_tokens = 4;
    char *a = generate(f, &c.in, &out, &d);
    assert_int_equal(out.completion_tokens, 4);
    assert_int_equal(sim_token_count(a, strlen(a)), 4);
    assert_string_equal(out.finish_reason, "length");
    assert_memory_equal(a, full, strlen(a));
    assert_true(strlen(a) < strlen(full));
    infer_output_clear(&out);
    free(a);
    free(full);

    char *stops[] = {"simulated answer"};
    c.in.u.llm.max_tokens = 0;
    c.in.u.llm.stop = stops;
    c.in.u.llm.n_stop = 1;
    a = generate(f, &c.in, &out, &d);
    assert_string_equal(a, "This is a ");
    assert_string_equal(out.finish_reason, "stop");
    infer_output_clear(&out);
    free(a);
}

static void test_json_mode(void **state)
{
    llm_fixture *f = *state;
    static const char *const turns[] = {"user", "List three \"quoted\" rivers"};
    convo c;
    convo_init(&c, turns, 1);
    c.in.u.llm.format = LLM_FORMAT_JSON;
    infer_output out;
    deltas d;
    char *a = generate(f, &c.in, &out, &d);
    cJSON *j = cJSON_Parse(a);
    assert_true(cJSON_IsObject(j));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "answer")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "simulated")));
    const cJSON *topics = cJSON_GetObjectItem(j, "topics");
    assert_true(cJSON_IsArray(topics));
    assert_string_equal(cJSON_GetArrayItem(topics, 3)->valuestring, "rivers");
    cJSON_Delete(j);
    infer_output_clear(&out);
    free(a);
}

static void test_tool_call(void **state)
{
    llm_fixture *f = *state;
    static const char *const turns[] = {"user", "What is the weather in Paris?"};
    convo c;
    convo_init(&c, turns, 1);
    c.in.u.llm.tools = cJSON_Parse(
        "[{\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"description\": "
        "\"Current time\"}}, {\"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
        "\"description\": \"The weather of a city\", \"parameters\": {\"type\": \"object\", "
        "\"properties\": {\"city\": {\"type\": \"string\"}, \"unit\": {\"type\": \"string\", "
        "\"enum\": [\"celsius\", \"fahrenheit\"]}, \"days\": {\"type\": \"integer\"}}}}}]");
    assert_non_null(c.in.u.llm.tools);
    infer_output out;
    deltas d;
    char *a = generate(f, &c.in, &out, &d);
    const char *open = "<tool_call>\n", *close = "\n</tool_call>";
    assert_memory_equal(a, open, strlen(open));
    size_t len = strlen(a);
    assert_string_equal(a + len - strlen(close), close);
    a[len - strlen(close)] = '\0';
    cJSON *call = cJSON_Parse(a + strlen(open));
    assert_non_null(call);
    assert_string_equal(cJSON_GetObjectItem(call, "name")->valuestring, "get_weather");
    const cJSON *args = cJSON_GetObjectItem(call, "arguments");
    assert_string_equal(cJSON_GetObjectItem(args, "city")->valuestring, "paris");
    assert_string_equal(cJSON_GetObjectItem(args, "unit")->valuestring, "celsius");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(args, "days")));
    cJSON_Delete(call);
    infer_output_clear(&out);
    free(a);

    /* The tool's answer is quoted in the reply that follows. */
    static const char *const turns2[] = {"user", "What is the weather in Paris?", "assistant", "",
                                         "tool", "18 degrees and sunny"};
    convo c2;
    convo_init(&c2, turns2, 3);
    c2.in.u.llm.tools = c.in.u.llm.tools;
    c2.msgs[1].tool_calls = cJSON_Parse(
        "[{\"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}}]");
    c2.msgs[2].tool_name = "get_weather";
    buf t = {0};
    assert_int_equal(sim_llm_render(&c2.in.u.llm, &t), 0);
    assert_int_equal(buf_append(&t, "", 1), 0);
    assert_non_null(strstr((char *)t.data,
                           "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", "
                           "\"arguments\": {\"city\":\"Paris\"}}\n</tool_call><|im_end|>\n"));
    assert_non_null(strstr((char *)t.data, "# Tools"));
    buf_free(&t);
    a = generate(f, &c2.in, &out, &d);
    assert_non_null(strstr(a, "The tool get_weather answered: \"18 degrees and sunny\"."));
    infer_output_clear(&out);
    free(a);
    cJSON_Delete(c2.msgs[1].tool_calls);
    cJSON_Delete(c.in.u.llm.tools);
}

static void test_raw_prompt_and_context(void **state)
{
    llm_fixture *f = *state;
    infer_input in = {.kind = MODEL_LLM};
    in.u.llm.prompt = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
    infer_output out;
    deltas d;
    char *a = generate(f, &in, &out, &d);
    /* No template around a raw prompt: its own tokens only. */
    assert_int_equal(out.prompt_tokens,
                     sim_llm_token_count(in.u.llm.prompt, strlen(in.u.llm.prompt)));
    assert_int_equal(out.prompt_tokens, 10);
    infer_output_clear(&out);
    free(a);

    /* A prompt that does not fit the context is refused, naming both sizes. */
    size_t n = 3000 * 4;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i += 4)
        memcpy(big + i, "ab. ", 4);
    big[n] = '\0';
    in.u.llm.prompt = big;
    hdm_err err = {0};
    memset(&out, 0, sizeof(out));
    assert_int_equal(backend_sim_ops.infer(f->t.b, f->m, &in, NULL, &out, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "context holds 2048"));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_and_counts),
        cmocka_unit_test_setup_teardown(test_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_tokens_and_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tool_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_prompt_and_context, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
