/*
 * test_backend_sim_text.c - the sim tokenizer and VLM generation:
 * determinism, streaming deltas, max_tokens, stop strings, seed and
 * temperature, token counts.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "sim_test_util.h"

typedef struct vlm_fixture {
    simt t;
    char *path;
    backend_model *m;
} vlm_fixture;

static int setup(void **state)
{
    vlm_fixture *f = calloc(1, sizeof(*f));
    simt_setup(&f->t, "{\"latency_scale\": 0}");
    f->path = simt_model(&f->t, "qwen2-vl-2b-instruct.hef", NULL);
    f->m = simt_load(&f->t, MODEL_VLM, f->path, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    vlm_fixture *f = *state;
    backend_sim_ops.unload(f->t.b, f->m);
    simt_teardown(&f->t);
    free(f->path);
    free(f);
    return 0;
}

/* Collects the deltas, checking each is valid UTF-8 on its own. */
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

/* Runs a generation; returns the result text (malloc'd), deltas in *d. */
static char *generate(vlm_fixture *f, const infer_input *in, infer_output *out, deltas *d)
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
    /* The deltas add up to exactly the result. */
    assert_int_equal(d->all.len, strlen(text));
    if (d->all.len > 0)
        assert_memory_equal(d->all.data, text, d->all.len);
    buf_free(&d->all);
    return text;
}

static infer_input prompt_input(const char *prompt)
{
    infer_input in = {.kind = MODEL_VLM};
    in.u.vlm.prompt = (char *)prompt;
    in.u.vlm.temperature = 0.7;
    in.u.vlm.top_p = 0.9;
    in.u.vlm.max_tokens = 200;
    return in;
}

static void test_tokenizer(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int tokens;
    } cases[] = {
        {"", 0},
        {"Hello world", 2},                          /* "Hello" " world" */
        {"internationalization", 4},                 /* 6 + 6 + 6 + 2 */
        {"a, b", 3},                                 /* "a" "," " b" */
        {"two  spaces", 3},                          /* "two" " " " spaces" */
        {"h\xc3\xa9llo", 1},                         /* 6 bytes: one piece */
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 2}, /* 3 characters of 3 bytes: 6 + 3 */
        {"line\n\nnext", 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(sim_token_count(cases[i].text, strlen(cases[i].text)), cases[i].tokens);
    /* Pieces never split a UTF-8 character. */
    const char *s = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    size_t end = sim_token_end(s, strlen(s), 0);
    assert_int_equal(end, 6);
}

static void test_deterministic_and_plausible(void **state)
{
    vlm_fixture *f = *state;
    infer_input in = prompt_input("What animals are in the garden? Describe the elephants.");
    infer_output o1, o2;
    deltas d1, d2;
    hdm_tensor frames[2] = {simt_image(3, (const int64_t[]){336, 336, 3}, 1),
                            simt_image(3, (const int64_t[]){336, 336, 3}, 2)};
    in.u.vlm.frames = frames;
    in.u.vlm.n_frames = 2;

    char *a = generate(f, &in, &o1, &d1);
    char *b = generate(f, &in, &o2, &d2);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "simulated"));
    assert_non_null(strstr(a, "two images"));
    assert_non_null(strstr(a, "elephants"));
    assert_non_null(strstr(a, "garden"));
    assert_string_equal(o1.finish_reason, "stop");
    /* One delta per token, and usage from the same tokenizer. */
    assert_int_equal(d1.count, o1.completion_tokens);
    assert_int_equal(o1.completion_tokens, sim_token_count(a, strlen(a)));
    assert_int_equal(o1.prompt_tokens, sim_vlm_prompt_tokens(&in));
    assert_true(o1.prompt_tokens > 2 * SIM_VLM_IMAGE_TOKENS);
    assert_true(o1.completion_tokens < 200);

    /* Different images, different description. */
    infer_output o3;
    deltas d3;
    free(frames[1].data);
    frames[1] = simt_image(3, (const int64_t[]){336, 336, 3}, 3);
    char *c = generate(f, &in, &o3, &d3);
    assert_string_not_equal(a, c);

    free(a);
    free(b);
    free(c);
    infer_output_clear(&o1);
    infer_output_clear(&o2);
    infer_output_clear(&o3);
    free(frames[0].data);
    free(frames[1].data);
}

static void test_max_tokens(void **state)
{
    vlm_fixture *f = *state;
    infer_input in = prompt_input("Describe this.");
    infer_output out;
    deltas d;
    in.u.vlm.max_tokens = 5;
    char *text = generate(f, &in, &out, &d);
    assert_int_equal(out.completion_tokens, 5);
    assert_int_equal(d.count, 5);
    assert_string_equal(out.finish_reason, "length");
    assert_string_equal(text, "This is a simulated"); /* " simula" "ted" */
    free(text);
    infer_output_clear(&out);
}

static void test_stop_strings(void **state)
{
    vlm_fixture *f = *state;
    infer_input in = prompt_input("Describe this.");
    char *stops[] = {"zzzz-never", "simulator"};
    infer_output out;
    deltas d;
    in.u.vlm.stop = stops;
    in.u.vlm.n_stop = 2;
    char *text = generate(f, &in, &out, &d);
    assert_string_equal(text, "This is a simulated answer from the Hailo-10H ");
    assert_string_equal(out.finish_reason, "stop");
    free(text);
    infer_output_clear(&out);

    /* A stop string spanning tokens: none of it is ever streamed. */
    char *span[] = {"ted answer fr"};
    in.u.vlm.stop = span;
    in.u.vlm.n_stop = 1;
    text = generate(f, &in, &out, &d);
    assert_string_equal(text, "This is a simula");
    free(text);
    infer_output_clear(&out);

    /* Stop at the very start: an empty answer. */
    char *first[] = {"This"};
    in.u.vlm.stop = first;
    text = generate(f, &in, &out, &d);
    assert_string_equal(text, "");
    assert_int_equal(d.count, 0);
    assert_int_equal(out.completion_tokens, 1);
    free(text);
    infer_output_clear(&out);
}

static void test_seed_and_temperature(void **state)
{
    vlm_fixture *f = *state;
    infer_input in = prompt_input("What is on the table?");
    infer_output o;
    deltas d;

    in.u.vlm.has_seed = true;
    in.u.vlm.seed = 1;
    char *s1 = generate(f, &in, &o, &d);
    infer_output_clear(&o);
    char *s1b = generate(f, &in, &o, &d);
    infer_output_clear(&o);
    in.u.vlm.seed = 2;
    char *s2 = generate(f, &in, &o, &d);
    infer_output_clear(&o);
    assert_string_equal(s1, s1b);
    assert_string_not_equal(s1, s2);

    /* Temperature 0 is greedy: the seed does not matter. */
    in.u.vlm.temperature = 0;
    char *g1 = generate(f, &in, &o, &d);
    infer_output_clear(&o);
    in.u.vlm.seed = 99;
    char *g2 = generate(f, &in, &o, &d);
    infer_output_clear(&o);
    in.u.vlm.has_seed = false;
    char *g3 = generate(f, &in, &o, &d);
    infer_output_clear(&o);
    assert_string_equal(g1, g2);
    assert_string_equal(g1, g3);
    free(s1);
    free(s1b);
    free(s2);
    free(g1);
    free(g2);
    free(g3);
}

static void test_messages(void **state)
{
    vlm_fixture *f = *state;
    chat_message msgs[3] = {
        {.role = "system", .text = "You are a helpful assistant.", .n_images = 0},
        {.role = "user", .text = "Look at the giraffe.", .n_images = 1},
        {.role = "user", .text = "Is the M\xc3\xbcnchen tram red?", .n_images = 0},
    };
    hdm_tensor frame = simt_image(4, (const int64_t[]){1, 336, 336, 3}, 4);
    infer_input in = prompt_input(NULL);
    infer_output o;
    deltas d;
    char *stops[] = {"qqqqqq"}; /* never matches: forces hold-back */
    in.u.vlm.messages = msgs;
    in.u.vlm.n_messages = 3;
    in.u.vlm.frames = &frame;
    in.u.vlm.n_frames = 1;
    in.u.vlm.stop = stops;
    in.u.vlm.n_stop = 1;

    char *text = generate(f, &in, &o, &d);
    assert_non_null(strstr(text, "one image"));
    /* Words of the last user message, including non-ASCII ones. */
    assert_non_null(strstr(text, "m\xc3\xbcnchen"));
    assert_non_null(strstr(text, "tram"));
    assert_null(strstr(text, "giraffe"));
    assert_true(simt_utf8_valid(text, strlen(text)));

    /* The image counts SIM_VLM_IMAGE_TOKENS prompt tokens. */
    int with_image = o.prompt_tokens;
    infer_output_clear(&o);
    msgs[1].n_images = 0;
    in.u.vlm.n_frames = 0;
    free(text);
    text = generate(f, &in, &o, &d);
    assert_int_equal(with_image - o.prompt_tokens, SIM_VLM_IMAGE_TOKENS);
    assert_non_null(strstr(text, "No image"));
    infer_output_clear(&o);
    free(text);

    /* More image parts than frames is refused. */
    msgs[1].n_images = 2;
    in.u.vlm.n_frames = 1;
    hdm_err err = {0};
    assert_int_equal(backend_sim_ops.infer(f->t.b, f->m, &in, NULL, &o, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "frames"));
    free(frame.data);
}

static void test_bad_frame(void **state)
{
    vlm_fixture *f = *state;
    hdm_tensor frame = simt_image(3, (const int64_t[]){224, 224, 3}, 4);
    infer_input in = prompt_input("Describe.");
    infer_output o = {0};
    hdm_err err = {0};
    in.u.vlm.frames = &frame;
    in.u.vlm.n_frames = 1;
    assert_int_equal(backend_sim_ops.infer(f->t.b, f->m, &in, NULL, &o, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "frames[0]"));
    assert_non_null(strstr(err.msg, "[336,336,3]"));
    assert_non_null(strstr(err.msg, "uint8 [224,224,3]"));
    free(frame.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer),
        cmocka_unit_test_setup_teardown(test_deterministic_and_plausible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_and_temperature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frame, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
