/*
 * test_request.c - a /v1/depth/estimate body to a depth_request with the
 * original's rules: where the image comes from, normalize's truth and
 * echo, `value or config` for colormap and output_format, the size limit,
 * and our 400s where the original raised.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/base64.h"
#include "common/pyjson.h"
#include "depth/depth.h"
#include "http/http_internal.h"

typedef struct ctx {
    depth_config cfg;
    svc_fetch fetch;
} ctx;

static cJSON *tree; /* the last body parsed by from_json */

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof(*c));
    assert_int_equal(depth_config_defaults(&c->cfg), 0);
    const svc_fetch_opts o = {.max_bytes = 1 << 20,
                              .timeout_ms = 1000,
                              .dirs_key = "input.allowed_dirs",
                              .remote_key = "input.allow_image_url"};
    hdm_err err = {0};
    assert_int_equal(svc_fetch_init(&c->fetch, &o, &err), 0);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    cJSON_Delete(tree);
    tree = NULL;
    svc_fetch_free(&c->fetch);
    depth_config_free(&c->cfg);
    free(c);
    return 0;
}

/* Parses a JSON body text into rq and decodes its image as the pipeline
 * does (depth_request_load); returns the first failure's code.  The JSON
 * tree is kept in `tree` while rq points into it (freed by the next call). */

static int from_json(ctx *c, const char *text, depth_request *rq, hdm_err *err)
{
    cJSON_Delete(tree);
    tree = cJSON_Parse(text);
    assert_non_null(tree);
    hdm_err_clear(err);
    int r = depth_request_from_json(&c->cfg, &c->fetch, tree, rq, err);
    if (r == 0)
        r = depth_request_load(rq, &c->cfg, err);
    return r;
}

static char *echo(const depth_request *rq)
{
    return pyjson_print(rq->normalized, PYJSON_DUMPS);
}

/* "abc" in base64 is YWJj. */
static void test_json_image(void **state)
{
    ctx *c = *state;
    depth_request rq;
    hdm_err err;
    assert_int_equal(from_json(c, "{\"image\": \"YWJj\"}", &rq, &err), 0);
    assert_int_equal(rq.image_len, 3);
    assert_memory_equal(rq.image, "abc", 3);
    assert_true(rq.normalize);
    assert_int_equal(rq.format, DEPTH_OUT_BOTH);
    assert_non_null(rq.colormap);
    assert_false(rq.metres);
    depth_request_free(&rq);
    /* A data: URI is cut after its first comma, the media type unchecked;
     * junk characters are dropped as Python's b64decode drops them. */
    assert_int_equal(from_json(c, "{\"image\": \"data:text/plain;base64,YW!Jj\"}", &rq, &err), 0);
    assert_memory_equal(rq.image, "abc", 3);
    depth_request_free(&rq);
    assert_int_equal(from_json(c, "{\"image\": \"YWJ\"}", &rq, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "Invalid base64 in 'image': Incorrect padding");
    depth_request_free(&rq);
    assert_int_equal(from_json(c, "{\"image\": 5}", &rq, &err), -HDM_E_BAD_REQUEST);
    depth_request_free(&rq);
    assert_int_equal(from_json(c, "{\"image\": \"data:image/png;base64\"}", &rq, &err),
                     -HDM_E_BAD_REQUEST);
    depth_request_free(&rq);
    /* "image" wins over image_url, as in the original. */
    assert_int_equal(from_json(c, "{\"image\": \"YWJj\", \"image_url\": \"http://x/\"}", &rq, &err),
                     0);
    depth_request_free(&rq);
}

static void test_json_missing(void **state)
{
    ctx *c = *state;
    depth_request rq;
    hdm_err err;
    assert_int_equal(from_json(c, "{\"output_format\": \"numpy\"}", &rq, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "Missing 'image' or 'image_url' field");
    depth_request_free(&rq);
    assert_int_equal(from_json(c, "[1, 2]", &rq, &err), -HDM_E_BAD_REQUEST);
    depth_request_free(&rq);
    c->cfg.allow_image_url = false;
    assert_int_equal(from_json(c, "{\"image_url\": \"http://x/a.png\"}", &rq, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "Missing 'image' or 'image_url' field"));
    assert_non_null(strstr(err.msg, "input.allow_image_url"));
    depth_request_free(&rq);
    c->cfg.allow_image_url = true;
}

static void test_json_image_url(void **state)
{
    ctx *c = *state;
    depth_request rq;
    hdm_err err;
    assert_int_equal(from_json(c, "{\"image_url\": \"data:image/png;base64,YWJj\"}", &rq, &err), 0);
    assert_memory_equal(rq.image, "abc", 3);
    depth_request_free(&rq);
    const char *const bad[][2] = {
        {"{\"image_url\": 7}", "Failed to fetch image URL: image_url must be a string"},
        {"{\"image_url\": \"ftp://x/a.png\"}", "Failed to fetch image URL: unsupported URL"},
        {"{\"image_url\": \"file:///etc/passwd\"}",
         "Failed to fetch image URL: file:// URLs are disabled (input.allow_local_paths is "
         "false)"},
        {"{\"image_url\": \"http://example.com/a.png\"}",
         "Failed to fetch image URL: remote image URLs are disabled (input.allow_image_url is "
         "off)"},
        {"{\"image_url\": \"data:image/png,abc\"}",
         "Failed to fetch image URL: only base64 data: URIs"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(from_json(c, bad[i][0], &rq, &err), -HDM_E_BAD_REQUEST);
        if (strncmp(err.msg, bad[i][1], strlen(bad[i][1])) != 0)
            fail_msg("%s: got \"%s\"", bad[i][0], err.msg);
        depth_request_free(&rq);
    }
    c->cfg.allow_local_paths = true;
    assert_int_equal(from_json(c, "{\"image_url\": \"file:///etc/passwd\"}", &rq, &err),
                     -HDM_E_BAD_REQUEST);
    /* No input.allowed_dirs: still refused, naming the key. */
    assert_non_null(strstr(err.msg, "input.allowed_dirs"));
    depth_request_free(&rq);
    c->cfg.allow_local_paths = false;
}

static void test_normalize(void **state)
{
    ctx *c = *state;
    static const struct {
        const char *value; /* JSON text of "normalize" (NULL: absent) */
        bool normalize;
        const char *echo;
    } cases[] = {
        {NULL, true, "true"},       {"null", true, "true"},
        {"true", true, "true"},     {"false", false, "false"},
        {"\"true\"", true, "true"}, {"\"TRUE\"", true, "true"},
        {"\"1\"", false, "false"},  {"\"yes\"", false, "false"},
        {"\"\"", false, "false"},   {"1", true, "1"},
        {"0", false, "0"},          {"2.5", true, "2.5"},
        {"[]", false, "[]"},        {"[0]", true, "[0]"},
        {"{}", false, "{}"},        {"{\"a\": 1}", true, "{\"a\": 1}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[128];
        if (cases[i].value)
            snprintf(body, sizeof(body), "{\"image\": \"YWJj\", \"normalize\": %s}",
                     cases[i].value);
        else
            snprintf(body, sizeof(body), "{\"image\": \"YWJj\"}");
        depth_request rq;
        hdm_err err;
        assert_int_equal(from_json(c, body, &rq, &err), 0);
        char *e = echo(&rq);
        if (rq.normalize != cases[i].normalize || strcmp(e, cases[i].echo) != 0)
            fail_msg("%s: normalize %d echo %s", body, rq.normalize, e);
        free(e);
        depth_request_free(&rq);
    }
    /* The config's default when absent. */
    c->cfg.normalize = false;
    depth_request rq;
    hdm_err err;
    assert_int_equal(from_json(c, "{\"image\": \"YWJj\"}", &rq, &err), 0);
    assert_false(rq.normalize);
    depth_request_free(&rq);
    c->cfg.normalize = true;
}

static void test_format_and_colormap(void **state)
{
    ctx *c = *state;
    depth_request rq;
    hdm_err err;
    /* `value or config`: falsy values mean the config's. */
    assert_int_equal(from_json(c,
                               "{\"image\": \"YWJj\", \"output_format\": \"\", "
                               "\"colormap\": 0}",
                               &rq, &err),
                     0);
    assert_int_equal(rq.format, DEPTH_OUT_BOTH);
    assert_ptr_equal(rq.colormap, depthpost_colormap_find("viridis"));
    depth_request_free(&rq);
    /* An unknown format: no outputs, and the colormap is never looked at. */
    assert_int_equal(from_json(c,
                               "{\"image\": \"YWJj\", \"output_format\": \"tiff\", "
                               "\"colormap\": \"nope\"}",
                               &rq, &err),
                     0);
    assert_int_equal(rq.format, DEPTH_OUT_NONE);
    depth_request_free(&rq);
    assert_int_equal(from_json(c, "{\"image\": \"YWJj\", \"output_format\": 3}", &rq, &err), 0);
    assert_int_equal(rq.format, DEPTH_OUT_NONE);
    depth_request_free(&rq);
    assert_int_equal(from_json(c,
                               "{\"image\": \"YWJj\", \"output_format\": \"numpy\", "
                               "\"colormap\": \"nope\"}",
                               &rq, &err),
                     0);
    depth_request_free(&rq);
    assert_int_equal(from_json(c,
                               "{\"image\": \"YWJj\", \"output_format\": \"image\", "
                               "\"colormap\": \"inferno\"}",
                               &rq, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "'inferno' is not a valid value for cmap; supported values are "
                                 "'viridis', 'plasma', 'magma', 'turbo', 'jet'");
    depth_request_free(&rq);
    assert_int_equal(from_json(c, "{\"image\": \"YWJj\", \"colormap\": [\"jet\"]}", &rq, &err),
                     -HDM_E_BAD_REQUEST);
    depth_request_free(&rq);
    assert_int_equal(from_json(c,
                               "{\"image\": \"YWJj\", \"colormap\": \"jet\", "
                               "\"output_format\": \"png16\"}",
                               &rq, &err),
                     0);
    assert_int_equal(rq.format, DEPTH_OUT_PNG16);
    depth_request_free(&rq);
}

static void test_transform(void **state)
{
    ctx *c = *state;
    depth_request rq;
    hdm_err err;
    static const struct {
        const char *body;
        int result; /* 0, or 1 for metres, -1 for a 400 */
    } cases[] = {
        {"{\"image\": \"YWJj\", \"transform\": \"metres\"}", 1},
        {"{\"image\": \"YWJj\", \"transform\": \"none\"}", 0},
        {"{\"image\": \"YWJj\", \"transform\": true}", 1},
        {"{\"image\": \"YWJj\", \"transform\": null}", 0},
        {"{\"image\": \"YWJj\", \"transform\": \"feet\"}", -1},
        {"{\"image\": \"YWJj\", \"transform\": 1}", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = from_json(c, cases[i].body, &rq, &err);
        if (cases[i].result < 0) {
            assert_int_equal(r, -HDM_E_BAD_REQUEST);
        } else {
            assert_int_equal(r, 0);
            assert_int_equal(rq.metres, cases[i].result == 1);
        }
        depth_request_free(&rq);
    }
}

static void test_size_limit(void **state)
{
    ctx *c = *state;
    depth_request rq;
    hdm_err err;
    c->cfg.max_image_mb = 2.0 / (1024 * 1024); /* 2 bytes */
    assert_int_equal(from_json(c, "{\"image\": \"YWJj\"}", &rq, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "Image exceeds 1.9073486328125e-06MB limit");
    depth_request_free(&rq);
    c->cfg.max_image_mb = 50;
}

/* A multipart body through the HTTP layer's parser. */
static int from_form(ctx *c, const char *body, depth_request *rq, hdm_err *err, http_form *f)
{
    http_multipart_limits lim = {.max_parts = 16, .max_part_header_bytes = 1024};
    char msg[256];
    assert_int_equal(http_multipart_parse((const uint8_t *)body, strlen(body),
                                          "multipart/form-data; boundary=B", &lim, f, msg,
                                          sizeof(msg)),
                     0);
    hdm_err_clear(err);
    return depth_request_from_form(&c->cfg, f, rq, err);
}

#define PART(name, value)                                                                          \
    "--B\r\nContent-Disposition: form-data; name=\"" name "\"\r\n\r\n" value "\r\n"

static void test_form(void **state)
{
    ctx *c = *state;
    depth_request rq;
    hdm_err err;
    http_form f;
    assert_int_equal(
        from_form(c,
                  "--B\r\nContent-Disposition: form-data; name=\"image\"; "
                  "filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJPEGDATA\r\n" PART(
                      "image_right", "ignored") PART("normalize", "True") PART("colormap", "plasma")
                      PART("output_format", "image") PART("other", "x") "--B--\r\n",
                  &rq, &err, &f),
        0);
    assert_int_equal(rq.image_len, 8);
    assert_memory_equal(rq.image, "JPEGDATA", 8);
    assert_true(rq.normalize);
    char *e = echo(&rq);
    assert_string_equal(e, "true");
    free(e);
    assert_int_equal(rq.format, DEPTH_OUT_IMAGE);
    assert_ptr_equal(rq.colormap, depthpost_colormap_find("plasma"));
    depth_request_free(&rq);
    http_form_free(&f);

    /* "1" is not "true" (the original's lower() == "true"). */
    assert_int_equal(
        from_form(c, PART("image", "x") PART("normalize", "1") "--B--\r\n", &rq, &err, &f), 0);
    assert_false(rq.normalize);
    depth_request_free(&rq);
    http_form_free(&f);

    assert_int_equal(from_form(c, PART("normalize", "true") "--B--\r\n", &rq, &err, &f),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "Missing 'image' field");
    depth_request_free(&rq);
    http_form_free(&f);
    assert_int_equal(from_form(c, PART("image", "") "--B--\r\n", &rq, &err, &f),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "Missing 'image' field");
    depth_request_free(&rq);
    http_form_free(&f);
    /* Text parts must be UTF-8. */
    assert_int_equal(
        from_form(c, PART("image", "x") PART("colormap", "\xff") "--B--\r\n", &rq, &err, &f),
        -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "colormap"));
    depth_request_free(&rq);
    http_form_free(&f);
}

/* The size from a base64 image's header, from a prefix only. */
static void test_probe(void **state)
{
    ctx *c = *state;
    /* A PNG signature + IHDR of 640x480, then junk the decoder never needs. */
    static const uint8_t head[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0,
                                   0,    13,  'I', 'H', 'D',  'R',  0,    0,    2, 128,
                                   0,    0,   1,   224, 8,    2,    0,    0};
    size_t n = sizeof(head) + 300000;
    uint8_t *img = calloc(1, n);
    memcpy(img, head, sizeof(head));
    char *b64 = malloc(base64_encoded_len(n) + 64);
    strcpy(b64, "{\"image\": \"data:image/png;base64,");
    base64_encode(img, n, b64 + strlen(b64));
    strcat(b64, "\"}");
    cJSON *j = cJSON_Parse(b64);
    depth_request rq;
    hdm_err err = {0};
    assert_int_equal(depth_request_from_json(&c->cfg, &c->fetch, j, &rq, &err), 0);
    assert_null(rq.image); /* not decoded yet */
    int w = 0, h = 0;
    assert_int_equal(depth_request_probe(&rq, &w, &h), 0);
    assert_int_equal(w, 640);
    assert_int_equal(h, 480);
    assert_int_equal(depth_request_load(&rq, &c->cfg, &err), 0);
    assert_int_equal(rq.image_len, n);
    w = h = 0;
    assert_int_equal(depth_request_probe(&rq, &w, &h), 0);
    assert_int_equal(w, 640);
    depth_request_drop_image(&rq);
    assert_null(rq.image);
    depth_request_free(&rq);
    cJSON_Delete(j);
    free(b64);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_image_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normalize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_and_colormap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transform, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
