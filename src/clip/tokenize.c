/*
 * tokenize.c - `hailo-clip --tokenize [--tokenizer FILE | --config FILE]`:
 * a debugging entry point that prints the ids the service computes.
 *
 * Each stdin line holds one JSON string; stdout gets, line for line, the
 * JSON array of its ids: HF's Tokenizer.encode(text).ids, start and end
 * tokens included, no truncation to 77 and no padding (what
 * clip_tokenize_all() returns).  A line that cannot be read or encoded
 * prints `null`, so output lines stay aligned with input lines, and a
 * sentence "line N: ..." on stderr; the exit code is then 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip/clip.h"
#include "cliptext/jsonstr.h"
#include "common/buf.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hailo-clip --tokenize [--tokenizer FILE | --config FILE]\n"
               "  Reads one JSON string per line and prints the JSON array of its token ids\n"
               "  (start and end tokens included, no truncation, no padding).  The tokenizer\n"
               "  is FILE, or clip.tokenizer_path of the config (default $HAILO_CLIP_CONFIG,\n"
               "  else %s).\n", CLIP_DEFAULT_CONFIG);
}

bool clip_tokenize_requested(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--tokenize") == 0)
            return true;
    return false;
}

static int load_tokenizer(const char *tokenizer_path, const char *config_path,
                          bool explicit_config, clip_tokenizer **tok)
{
    clip_config cfg;
    hdm_err err = {0};
    int r;
    if (tokenizer_path) {
        r = clip_tokenizer_load(tokenizer_path, tok, &err);
    } else {
        if (clip_config_defaults(&cfg) < 0) {
            fprintf(stderr, "hailo-clip: out of memory\n");
            return -1;
        }
        r = clip_config_load(&cfg, config_path, !explicit_config, &err);
        if (r == 0)
            r = clip_tokenizer_load(cfg.tokenizer_path, tok, &err);
        clip_config_free(&cfg);
    }
    if (r < 0)
        fprintf(stderr, "hailo-clip: %s\n", err.msg);
    return r;
}

int clip_tokenize_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tokenize", no_argument, NULL, 'T'}, {"tokenizer", required_argument, NULL, 't'},
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tokenizer_path = NULL, *config_path = getenv("HAILO_CLIP_CONFIG");
    bool explicit_config = config_path && *config_path, config_flag = false;
    int c;
    if (!explicit_config)
        config_path = CLIP_DEFAULT_CONFIG;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'T':
            break;
        case 't':
            tokenizer_path = optarg;
            break;
        case 'c':
            config_path = optarg;
            explicit_config = config_flag = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || (tokenizer_path && config_flag)) {
        fprintf(stderr, "hailo-clip: --tokenize takes --tokenizer or --config, not both and "
                        "nothing else\n");
        usage(stderr);
        return 2;
    }

    clip_tokenizer *tok = NULL;
    if (load_tokenizer(tokenizer_path, config_path, explicit_config, &tok) < 0)
        return 1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    unsigned long lineno = 0;
    int rc = 0;
    buf text = {0}, out = {0};
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)got;
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        const char *why = NULL;
        int32_t *ids = NULL;
        size_t n = 0;
        hdm_err err = {0};
        text.len = 0;
        out.len = 0;
        int r = jsonstr_decode(line, len, &text, &why);
        if (r == 0 && clip_tokenize_all(tok, (const char *)text.data, text.len, &ids, &n, &err) < 0) {
            why = err.msg;
            r = -1;
        }
        if (r < 0) {
            fprintf(stderr, "line %lu: %s\n", lineno, why);
            fputs("null\n", stdout);
            rc = 1;
            continue;
        }
        int w = buf_append(&out, "[", 1);
        for (size_t i = 0; w == 0 && i < n; i++)
            w = buf_printf(&out, i ? ",%d" : "%d", ids[i]);
        if (w == 0)
            w = buf_append(&out, "]\n", 2);
        free(ids);
        if (w != 0 || fwrite(out.data, 1, out.len, stdout) != out.len) {
            fprintf(stderr, "line %lu: cannot write the ids\n", lineno);
            rc = 1;
            break;
        }
    }
    free(line);
    buf_free(&text);
    buf_free(&out);
    clip_tokenizer_free(tok);
    if (fflush(stdout) != 0)
        rc = 1;
    return rc;
}
