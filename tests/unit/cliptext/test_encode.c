/*
 * test_encode.c - our ids against HuggingFace tokenizers' on the real CLIP
 * vocabulary, line by line over tests/data/cliptext/hf-corpus.jsonl.gz
 * (README.md there says how the reference ids were made).
 *
 * Every line must give exactly the reference ids, except lines holding a
 * code point listed in hf-unicode-gaps.txt: characters newer than
 * utf8proc's Unicode tables, and combining marks whose class HF's NFC
 * tables lack.  Those are counted and reported, and their number may only
 * go down (a newer utf8proc closes some of them).
 *
 * For every line the hailo-apps view (77 ids, zero-padded, end-token
 * position) is also checked against the full encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "cliptext/jsonstr.h"
#include "cliptext/tokenizer.h"
#include "common/buf.h"
#include "common/utf8.h"

/* Lines of the corpus, and how many of them the gaps excused when the
 * fixtures were made (utf8proc 2.8.0). */
#define CORPUS_LINES 11465
#define GAP_LINES_AT_MOST 502

static char path_buf[1024];

static const char *data_file(const char *name)
{
    const char *dir = getenv("HDM_TEST_DATA");
    snprintf(path_buf, sizeof(path_buf), "%s/cliptext/%s", dir ? dir : "tests/data", name);
    return path_buf;
}

/* Reads the next line of f into b (without the newline); false at the end. */
static bool gz_line(gzFile f, buf *b)
{
    char chunk[65536];
    b->len = 0;
    while (gzgets(f, chunk, sizeof(chunk))) {
        size_t n = strlen(chunk);
        bool end = n > 0 && chunk[n - 1] == '\n';
        assert_int_equal(buf_append(b, chunk, end ? n - 1 : n), 0);
        if (end)
            break;
    }
    if (b->len == 0 && gzeof(f))
        return false;
    assert_int_equal(buf_append(b, "", 1), 0); /* NUL for cJSON, not counted */
    b->len--;
    return true;
}

static char *gz_read_all(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    assert_non_null(f);
    buf b = {0};
    char chunk[65536];
    int n;
    while ((n = gzread(f, chunk, sizeof(chunk))) > 0)
        assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
    assert_int_equal(n, 0);
    gzclose(f);
    *len = b.len;
    return (char *)b.data;
}

static clip_tokenizer *load_real(const char *regex_prefix, bool normalized)
{
    size_t len;
    char *json = gz_read_all(data_file("clip-tokenizer.json.gz"), &len);
    clip_tokenizer *tok = NULL;
    hdm_err err = {0};
    if (regex_prefix) {
        /* The older export: special tokens in the regex, matched in the raw text. */
        cJSON *root = cJSON_ParseWithLength(json, len);
        assert_non_null(root);
        cJSON *split = cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(root, "pre_tokenizer"), "pretokenizers"), 0);
        cJSON *pat = cJSON_GetObjectItem(split, "pattern");
        const char *old = cJSON_GetObjectItem(pat, "Regex")->valuestring;
        char *rx = malloc(strlen(regex_prefix) + strlen(old) + 1);
        strcpy(rx, regex_prefix);
        strcat(rx, old);
        cJSON_ReplaceItemInObject(pat, "Regex", cJSON_CreateString(rx));
        free(rx);
        cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(root, "added_tokens"))
            cJSON_ReplaceItemInObject(a, "normalized", cJSON_CreateBool(normalized));
        free(json);
        json = cJSON_PrintUnformatted(root);
        len = strlen(json);
        cJSON_Delete(root);
    }
    int r = clip_tokenizer_load_string(json, len, "clip-tokenizer.json", &tok, &err);
    if (r < 0)
        fprintf(stderr, "load: %s\n", err.msg);
    assert_int_equal(r, 0);
    free(json);
    return tok;
}

typedef struct range {
    uint32_t lo, hi;
} range;

static range gaps[256];
static size_t n_gaps;

static void load_gaps(void)
{
    FILE *f = fopen(data_file("hf-unicode-gaps.txt"), "r");
    assert_non_null(f);
    char line[256];
    n_gaps = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned lo, hi;
        if (line[0] == '#')
            continue;
        assert_int_equal(sscanf(line, "%x..%x", &lo, &hi), 2);
        assert_true(n_gaps < sizeof(gaps) / sizeof(gaps[0]));
        gaps[n_gaps++] = (range){lo, hi};
    }
    fclose(f);
    assert_true(n_gaps > 0);
}

static bool has_gap_code_point(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return false;
        for (size_t k = 0; k < n_gaps; k++)
            if (cp >= gaps[k].lo && cp <= gaps[k].hi)
                return true;
        i += n;
    }
    return false;
}

/* The reference array as ids; *n its length. */
static int32_t *parse_ids(const char *json, size_t *n)
{
    cJSON *arr = cJSON_Parse(json);
    assert_true(cJSON_IsArray(arr));
    *n = (size_t)cJSON_GetArraySize(arr);
    int32_t *ids = malloc((*n + 1) * sizeof(*ids));
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) ids[i++] = (int32_t)v->valuedouble;
    cJSON_Delete(arr);
    return ids;
}

static void print_ids(const char *what, const int32_t *ids, size_t n)
{
    fprintf(stderr, "  %s (%zu):", what, n);
    for (size_t i = 0; i < n && i < 40; i++)
        fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

/* hailo-apps' view of the same text agrees with the full encoding. */
static void check_padded(const clip_tokenizer *tok, const buf *text, const int32_t *all,
                         size_t n_all)
{
    int32_t ids[CLIP_CONTEXT_LEN];
    int eot_pos = -1;
    hdm_err err = {0};
    assert_int_equal(clip_tokenize(tok, (const char *)text->data, text->len, ids,
                                   CLIP_CONTEXT_LEN, &eot_pos, &err), 0);
    int want_eot = CLIP_CONTEXT_LEN - 1;
    for (int i = CLIP_CONTEXT_LEN - 1; i >= 0; i--) {
        int32_t want = (size_t)i < n_all ? all[i] : CLIP_PAD_ID;
        assert_int_equal(ids[i], want);
        if (want == clip_tokenizer_eot(tok))
            want_eot = i;
    }
    assert_int_equal(eot_pos, want_eot);
}

/*
 * Encodes the corpus lines named by the reference file and compares.
 * tsv: reference lines are "LINENO\t[ids]" for some corpus lines, else one
 * "[ids]" per corpus line.  Returns the number of lines excused by gaps.
 */
static int compare(const clip_tokenizer *tok, const char *ref_name, bool tsv, int *lines_out)
{
    gzFile corpus = gzopen(data_file("hf-corpus.jsonl.gz"), "rb");
    gzFile ref = gzopen(data_file(ref_name), "rb");
    assert_non_null(corpus);
    assert_non_null(ref);
    buf line = {0}, text = {0}, want = {0};
    int lineno = 0, compared = 0, excused = 0, failed = 0;
    while (gz_line(ref, &want)) {
        const char *ref_json = (const char *)want.data;
        int target = lineno + 1;
        if (tsv) {
            char *tab = strchr(ref_json, '\t');
            assert_non_null(tab);
            target = atoi(ref_json);
            ref_json = tab + 1;
        }
        while (lineno < target) {
            assert_true(gz_line(corpus, &line));
            lineno++;
        }
        const char *why = NULL;
        text.len = 0;
        if (jsonstr_decode((const char *)line.data, line.len, &text, &why) < 0)
            fail_msg("corpus line %d: %s", lineno, why);
        int32_t *ids = NULL;
        size_t n = 0, n_ref = 0;
        hdm_err err = {0};
        if (clip_tokenize_all(tok, (const char *)text.data, text.len, &ids, &n, &err) < 0)
            fail_msg("corpus line %d: %s", lineno, err.msg);
        int32_t *ref_ids = parse_ids(ref_json, &n_ref);
        bool same = n == n_ref && memcmp(ids, ref_ids, n * sizeof(*ids)) == 0;
        if (!same) {
            if (has_gap_code_point(text.data, text.len)) {
                excused++;
            } else {
                fprintf(stderr, "%s: line %d differs: %.*s\n", ref_name, lineno,
                        line.len > 200 ? 200 : (int)line.len, (const char *)line.data);
                print_ids("ours", ids, n);
                print_ids("HF  ", ref_ids, n_ref);
                failed++;
            }
        }
        check_padded(tok, &text, ids, n);
        free(ids);
        free(ref_ids);
        compared++;
    }
    gzclose(corpus);
    gzclose(ref);
    buf_free(&line);
    buf_free(&text);
    buf_free(&want);
    fprintf(stderr, "%s: %d lines, %d equal, %d differ only by code points of "
                    "hf-unicode-gaps.txt, %d differ otherwise\n",
            ref_name, compared, compared - excused - failed, excused, failed);
    assert_int_equal(failed, 0);
    *lines_out = compared;
    return excused;
}

static void test_reference_ids(void **state)
{
    (void)state;
    load_gaps();
    clip_tokenizer *tok = load_real(NULL, true);
    assert_int_equal(clip_tokenizer_sot(tok), 49406);
    assert_int_equal(clip_tokenizer_eot(tok), 49407);
    assert_int_equal(clip_tokenizer_vocab_size(tok), 49408);
    int lines = 0;
    int excused = compare(tok, "hf-ids.jsonl.gz", false, &lines);
    assert_int_equal(lines, CORPUS_LINES);
    assert_true(excused <= GAP_LINES_AT_MOST);
    clip_tokenizer_free(tok);
}

static void test_reference_ids_older_export(void **state)
{
    (void)state;
    load_gaps();
    clip_tokenizer *tok = load_real("<\\|startoftext\\|>|<\\|endoftext\\|>|", false);
    int lines = 0;
    compare(tok, "hf-ids-oldregex.tsv.gz", true, &lines);
    assert_true(lines > 1000);
    clip_tokenizer_free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_ids),
        cmocka_unit_test(test_reference_ids_older_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
