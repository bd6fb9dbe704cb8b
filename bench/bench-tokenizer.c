/*
 * bench-tokenizer.c - CLIP tokenizer speed on a corpus of JSON strings, as
 * hailo-clip tokenizes each prompt that misses the embedding cache.
 *
 *   bench-tokenizer TOKENIZER.json[.gz] CORPUS.jsonl[.gz] [--runs N] [--ascii]
 *                   [--max-bytes N]
 *
 * The default inputs are the test fixtures (tests/data/cliptext): the real
 * CLIP tokenizer.json and the 11465-line HF reference corpus (every script,
 * long words, random text).  --ascii keeps only the corpus lines that are
 * plain ASCII and --max-bytes N those of at most N bytes (prompts are
 * short ASCII text mostly).  Each run encodes every line twice:
 * the full encoding (clip_tokenize_all, as `--tokenize` does) and the 77
 * padded ids a request needs (clip_tokenize).  Prints a Markdown table of
 * the best run: tokens/s and lines/s, with this thread's CPU time.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "cliptext/jsonstr.h"
#include "cliptext/tokenizer.h"
#include "common/buf.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *read_all(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    buf b = {0};
    char chunk[65536];
    int n;
    while ((n = gzread(f, chunk, sizeof(chunk))) > 0)
        if (buf_append(&b, chunk, (size_t)n) < 0)
            exit(1);
    gzclose(f);
    if (n < 0 || buf_append(&b, "", 1) < 0)
        return NULL;
    *len = b.len - 1;
    return (char *)b.data;
}

typedef struct line {
    char *text;
    size_t len;
} line;

int main(int argc, char **argv)
{
    int runs = 5;
    bool ascii_only = false;
    size_t max_bytes = SIZE_MAX;
    const char *tok_path = NULL, *corpus_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ascii") == 0)
            ascii_only = true;
        else if (strcmp(argv[i], "--max-bytes") == 0 && i + 1 < argc)
            max_bytes = (size_t)atol(argv[++i]);
        else if (!tok_path)
            tok_path = argv[i];
        else if (!corpus_path)
            corpus_path = argv[i];
        else
            tok_path = NULL;
    }
    if (!tok_path || !corpus_path || runs < 1) {
        fprintf(stderr, "usage: bench-tokenizer TOKENIZER.json[.gz] CORPUS.jsonl[.gz] "
                        "[--runs N] [--ascii] [--max-bytes N]\n");
        return 2;
    }
    size_t tlen, clen;
    char *tjson = read_all(tok_path, &tlen), *corpus = read_all(corpus_path, &clen);
    if (!tjson || !corpus) {
        fprintf(stderr, "bench-tokenizer: cannot read %s\n", tjson ? corpus_path : tok_path);
        return 1;
    }
    clip_tokenizer *tok = NULL;
    hdm_err err = {0};
    if (clip_tokenizer_load_string(tjson, tlen, tok_path, &tok, &err) < 0) {
        fprintf(stderr, "bench-tokenizer: %s\n", err.msg);
        return 1;
    }
    free(tjson);

    line *lines = NULL;
    size_t n_lines = 0, cap = 0, bytes = 0;
    for (char *p = corpus, *end = corpus + clen; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        buf text = {0};
        const char *why;
        if (len > 0 && jsonstr_decode(p, len, &text, &why) == 0) {
            bool ascii = true;
            for (size_t i = 0; i < text.len && ascii; i++)
                ascii = text.data[i] < 0x80;
            if ((!ascii_only || ascii) && text.len <= max_bytes) {
                if (n_lines == cap) {
                    cap = cap ? cap * 2 : 1024;
                    lines = realloc(lines, cap * sizeof(*lines));
                }
                lines[n_lines++] = (line){(char *)text.data, text.len};
                bytes += text.len;
                text.data = NULL;
            }
        }
        buf_free(&text);
        p += len + 1;
    }
    free(corpus);

    double best_all = 1e30, best_77 = 1e30;
    size_t tokens = 0;
    for (int run = 0; run < runs; run++) {
        double t0 = cpu_s();
        size_t count = 0;
        for (size_t i = 0; i < n_lines; i++) {
            int32_t *ids = NULL;
            size_t n = 0;
            if (clip_tokenize_all(tok, lines[i].text, lines[i].len, &ids, &n, &err) < 0) {
                fprintf(stderr, "bench-tokenizer: line %zu: %s\n", i + 1, err.msg);
                return 1;
            }
            count += n;
            free(ids);
        }
        double t1 = cpu_s();
        for (size_t i = 0; i < n_lines; i++) {
            int32_t ids[CLIP_CONTEXT_LEN];
            int eot_pos;
            if (clip_tokenize(tok, lines[i].text, lines[i].len, ids, CLIP_CONTEXT_LEN, &eot_pos,
                              &err) < 0)
                return 1;
        }
        double t2 = cpu_s();
        tokens = count;
        if (t1 - t0 < best_all)
            best_all = t1 - t0;
        if (t2 - t1 < best_77)
            best_77 = t2 - t1;
    }
    char sel[64] = "";
    if (max_bytes != SIZE_MAX)
        snprintf(sel, sizeof(sel), ", lines of at most %zu bytes", max_bytes);
    printf("Corpus: %s%s%s: %zu lines, %.2f MB of text, %zu tokens; best of %d runs, CPU "
           "time.\n\n", corpus_path, ascii_only ? ", ASCII lines" : "", sel, n_lines,
           bytes / 1e6, tokens, runs);
    printf("| what | time (s) | tokens/s | lines/s | MB/s |\n|---|---:|---:|---:|---:|\n");
    printf("| full encoding (`clip_tokenize_all`) | %.3f | %.0f | %.0f | %.1f |\n", best_all,
           tokens / best_all, n_lines / best_all, bytes / 1e6 / best_all);
    printf("| first 77 ids, padded (`clip_tokenize`) | %.3f | – | %.0f | – |\n", best_77,
           n_lines / best_77);
    for (size_t i = 0; i < n_lines; i++)
        free(lines[i].text);
    free(lines);
    clip_tokenizer_free(tok);
    return 0;
}
