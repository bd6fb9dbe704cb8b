/*
 * tokenizer.c - loading a HuggingFace tokenizer.json for CLIP.
 *
 * DESIGN: at load time every vocabulary string is resolved once, so encoding
 * (encode.c) works on integer ids only: each byte has two ids (plain and
 * with the end-of-word suffix) and each merge is an entry (left id, right
 * id) -> (rank, merged id) of the bpe.h table.  The vocabulary strings are
 * not kept.  Everything of the file that changes ids is either honoured
 * (added_tokens and their "normalized" flag, truncation, padding) or, when
 * it is not CLIP's, refused with a sentence naming the field: a service
 * that silently gave other ids than the original would be worse than one
 * that does not start.
 */
#include "cliptext/tokenizer.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

#include "cliptext/tok_internal.h"
#include "cliptext/unicode.h"
#include "common/hash.h"
#include "common/utf8.h"

/* tokenizer.json files larger than this are refused (the real one is ~3 MB). */
#define TOKENIZER_MAX_FILE (256u * 1024u * 1024u)

/* ---- hashing --------------------------------------------------------------- */

static size_t pow2_at_least(size_t n)
{
    size_t cap = 16;
    while (cap < n)
        cap <<= 1;
    return cap;
}

/* The vocabulary during loading: strings borrowed from the cJSON tree. */
typedef struct vocab_slot {
    const char *key;
    int32_t id;
} vocab_slot;

typedef struct vocab_map {
    vocab_slot *slots;
    size_t cap;
} vocab_map;

static int vocab_find(const vocab_map *v, const char *key, size_t len)
{
    size_t i = hash_fnv1a(HASH_FNV1A_SEED, key, len) & (v->cap - 1);
    for (;;) {
        const vocab_slot *s = &v->slots[i];
        if (!s->key)
            return -1;
        if (strlen(s->key) == len && memcmp(s->key, key, len) == 0)
            return s->id;
        i = (i + 1) & (v->cap - 1);
    }
}

static void vocab_put(vocab_map *v, const char *key, int32_t id)
{
    size_t len = strlen(key);
    size_t i = hash_fnv1a(HASH_FNV1A_SEED, key, len) & (v->cap - 1);
    while (v->slots[i].key) {
        if (strcmp(v->slots[i].key, key) == 0) {
            v->slots[i].id = id;
            return;
        }
        i = (i + 1) & (v->cap - 1);
    }
    v->slots[i].key = key;
    v->slots[i].id = id;
}

/* ---- loading --------------------------------------------------------------- */

/* CLIP's bytes_to_unicode(): byte -> the code point standing for it. */
static uint32_t byte_to_unicode(int b)
{
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
        return (uint32_t)b;
    /* The others get 256, 257, ... in byte order. */
    int n = 0;
    for (int i = 0; i < b; i++)
        if (!((i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF)))
            n++;
    return 256u + (uint32_t)n;
}

static int lookup_symbol(const vocab_map *v, const char *sym, size_t len, const char *name,
                         int32_t *out, hdm_err *err)
{
    int id = vocab_find(v, sym, len);
    if (id < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: model.vocab lacks the symbol \"%.*s\"",
                           name, (int)len, sym);
    *out = id;
    return 0;
}

static int load_bytes(clip_tokenizer *t, const vocab_map *v, const char *suffix, const char *name,
                      hdm_err *err)
{
    size_t slen = strlen(suffix);
    char sym[4 + 64];
    if (slen > 64)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: model.end_of_word_suffix is too long",
                           name);
    for (int b = 0; b < 256; b++) {
        size_t n = uc_encode(byte_to_unicode(b), (uint8_t *)sym);
        int r = lookup_symbol(v, sym, n, name, &t->byte_id[b], err);
        if (r < 0)
            return r;
        memcpy(sym + n, suffix, slen);
        r = lookup_symbol(v, sym, n + slen, name, &t->byte_eow_id[b], err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Splits merge number i (either "a b" or ["a", "b"]) into its two parts. */
static int merge_parts(const cJSON *m, size_t i, const char *name, const char **a, size_t *alen,
                       const char **b, size_t *blen, hdm_err *err)
{
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring;
        const char *sp = strchr(s, ' ');
        if (!sp || sp == s || sp[1] == '\0' || strchr(sp + 1, ' '))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s: model.merges[%zu] \"%s\" is not two symbols separated by "
                               "one space", name, i, s);
        *a = s;
        *alen = (size_t)(sp - s);
        *b = sp + 1;
        *blen = strlen(sp + 1);
        return 0;
    }
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(cJSON_GetArrayItem(m, 0)) &&
        cJSON_IsString(cJSON_GetArrayItem(m, 1))) {
        *a = cJSON_GetArrayItem(m, 0)->valuestring;
        *b = cJSON_GetArrayItem(m, 1)->valuestring;
        *alen = strlen(*a);
        *blen = strlen(*b);
        return 0;
    }
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s: model.merges[%zu] is neither a \"a b\" string nor a pair of strings",
                       name, i);
}

static int load_merges(clip_tokenizer *t, const vocab_map *v, const cJSON *merges,
                       const char *name, hdm_err *err)
{
    size_t n = (size_t)cJSON_GetArraySize(merges);
    char *joined = NULL;
    size_t joined_cap = 0;
    size_t i = 0;
    int r = 0;

    if (bpe_table_init(&t->merges, n) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory for %zu merges", name, n);

    const cJSON *m;
    cJSON_ArrayForEach(m, merges) {
        const char *a = NULL, *b = NULL;
        size_t alen = 0, blen = 0;
        int32_t left, right, merged;
        if ((r = merge_parts(m, i, name, &a, &alen, &b, &blen, err)) < 0)
            goto out;
        if (alen + blen + 1 > joined_cap) {
            joined_cap = (alen + blen + 1) * 2;
            char *grown = realloc(joined, joined_cap);
            if (!grown) {
                r = hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory", name);
                goto out;
            }
            joined = grown;
        }
        memcpy(joined, a, alen);
        memcpy(joined + alen, b, blen);
        if ((left = vocab_find(v, a, alen)) < 0 || (right = vocab_find(v, b, blen)) < 0 ||
            (merged = vocab_find(v, joined, alen + blen)) < 0) {
            r = hdm_err_set(err, HDM_E_BAD_REQUEST,
                            "%s: model.merges[%zu] (\"%.*s\" \"%.*s\") uses a symbol that is not "
                            "in model.vocab", name, i, (int)alen, a, (int)blen, b);
            goto out;
        }
        /* A pair listed twice keeps its last rank, as in HF's merge map. */
        bpe_table_put(&t->merges, left, right, (int32_t)i, merged);
        i++;
    }
out:
    free(joined);
    return r;
}

/* ---- the parts of the pipeline around the model ------------------------------ */

static bool is_string(const cJSON *o, const char *key, const char *want)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
}

/* True when key is absent, null or false. */
static bool is_off(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return !v || cJSON_IsNull(v) || cJSON_IsFalse(v);
}

/* A JSON number that is a whole value in [lo, hi]. */
static bool whole_number(const cJSON *v, double lo, double hi, double *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != floor(v->valuedouble))
        return false;
    *out = v->valuedouble;
    return true;
}

/* The i-th item of a "Sequence" list (normalizers / pretokenizers). */
static const cJSON *seq_item(const cJSON *seq, const char *list, int i, int n)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(seq, list);
    if (!is_string(seq, "type", "Sequence") || !cJSON_IsArray(items) ||
        cJSON_GetArraySize(items) != n)
        return NULL;
    return cJSON_GetArrayItem(items, i);
}

static const char CLIP_REGEX[] = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
static const char CLIP_REGEX_SPECIALS[] = "<\\|startoftext\\|>|<\\|endoftext\\|>|";

/*
 * The normalizer and pre_tokenizer must be CLIP's: other ones would give
 * other ids than HF does for the same file.  The regex may start with the
 * two special tokens (older exports): that changes nothing here, since the
 * added_tokens are cut out of the text before the regex runs, except for
 * added tokens matched in the raw text, handled in encode.c.
 */
static int check_pipeline(clip_tokenizer *t, const cJSON *root, const char *name, hdm_err *err)
{
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    const cJSON *nfc = seq_item(norm, "normalizers", 0, 3);
    const cJSON *repl = seq_item(norm, "normalizers", 1, 3);
    const cJSON *lower = seq_item(norm, "normalizers", 2, 3);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(repl, "pattern");
    if (!nfc || !is_string(nfc, "type", "NFC") || !is_string(repl, "type", "Replace") ||
        !is_string(pat, "Regex", "\\s+") || !is_string(repl, "content", " ") ||
        !is_string(lower, "type", "Lowercase"))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: normalizer is not CLIP's (Sequence of NFC, Replace \\s+ by \" \", "
                           "Lowercase)", name);

    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const cJSON *split = seq_item(pre, "pretokenizers", 0, 2);
    const cJSON *bl = seq_item(pre, "pretokenizers", 1, 2);
    const cJSON *rx = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(split, "pattern"), "Regex");
    bool regex_ok = false;
    if (cJSON_IsString(rx)) {
        const char *s = rx->valuestring;
        size_t sl = strlen(CLIP_REGEX_SPECIALS);
        if (strncmp(s, CLIP_REGEX_SPECIALS, sl) == 0) {
            s += sl;
            t->regex_specials = true;
        }
        regex_ok = strcmp(s, CLIP_REGEX) == 0;
    }
    const cJSON *invert = cJSON_GetObjectItemCaseSensitive(split, "invert");
    if (!split || !is_string(split, "type", "Split") || !regex_ok ||
        !is_string(split, "behavior", "Removed") || !cJSON_IsTrue(invert) ||
        !is_string(bl, "type", "ByteLevel") || !is_off(bl, "add_prefix_space"))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: pre_tokenizer is not CLIP's (Sequence of Split on CLIP's regex, "
                           "Removed, inverted, then ByteLevel without a prefix space)", name);

    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(model, "continuing_subword_prefix");
    if (!is_off(model, "dropout") || !is_off(model, "ignore_merges") ||
        !is_off(model, "byte_fallback") ||
        (prefix && !cJSON_IsNull(prefix) && !is_string(model, "continuing_subword_prefix", "")))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: model sets dropout, ignore_merges, byte_fallback or a "
                           "continuing_subword_prefix, which CLIP's does not", name);

    const cJSON *post = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(post, "cls");
    const cJSON *sep = cJSON_GetObjectItemCaseSensitive(post, "sep");
    double cls_id, sep_id;
    if (!(is_string(post, "type", "RobertaProcessing") ||
          is_string(post, "type", "BertProcessing")) ||
        cJSON_GetArraySize(cls) != 2 || cJSON_GetArraySize(sep) != 2 ||
        !whole_number(cJSON_GetArrayItem(cls, 1), 0, INT32_MAX - 1, &cls_id) ||
        !whole_number(cJSON_GetArrayItem(sep, 1), 0, INT32_MAX - 1, &sep_id))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: post_processor is not CLIP's (RobertaProcessing with cls and "
                           "sep [token, id])", name);
    t->sot = (int32_t)cls_id;
    t->eot = (int32_t)sep_id;
    return 0;
}

/* "truncation" and "padding": what HF's encode() applies after the model. */
static int load_trunc_pad(clip_tokenizer *t, const cJSON *root, const char *name, hdm_err *err)
{
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "truncation");
    double d = 0;
    if (tr && !cJSON_IsNull(tr)) {
        const cJSON *dir = cJSON_GetObjectItemCaseSensitive(tr, "direction");
        const cJSON *max_length = cJSON_GetObjectItemCaseSensitive(tr, "max_length");
        if (!whole_number(max_length, 2, CLIP_MAX_SETTING, &d) ||
            (dir && !is_string(tr, "direction", "Right")))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s: truncation must have max_length 2..%d and direction Right",
                               name, CLIP_MAX_SETTING);
        t->trunc_max = (size_t)d;
    }
    const cJSON *pad = cJSON_GetObjectItemCaseSensitive(root, "padding");
    if (pad && !cJSON_IsNull(pad)) {
        const cJSON *strat = cJSON_GetObjectItemCaseSensitive(pad, "strategy");
        const cJSON *fixed = cJSON_GetObjectItemCaseSensitive(strat, "Fixed");
        const cJSON *dir = cJSON_GetObjectItemCaseSensitive(pad, "direction");
        const cJSON *mult = cJSON_GetObjectItemCaseSensitive(pad, "pad_to_multiple_of");
        double pad_id, m = 0;
        bool strat_ok = cJSON_IsString(strat) ? strcmp(strat->valuestring, "BatchLongest") == 0
                                              : whole_number(fixed, 0, CLIP_MAX_SETTING, &d);
        if (!strat_ok || (dir && !is_string(pad, "direction", "Right")) ||
            !whole_number(cJSON_GetObjectItemCaseSensitive(pad, "pad_id"), 0, INT32_MAX - 1,
                          &pad_id) ||
            (mult && !cJSON_IsNull(mult) && !whole_number(mult, 1, CLIP_MAX_SETTING, &m)))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s: padding must be Fixed (up to %d) or BatchLongest, direction "
                               "Right, with a pad_id", name, CLIP_MAX_SETTING);
        t->pad = true;
        t->pad_fixed = cJSON_IsString(strat) ? 0 : (size_t)d;
        t->pad_multiple = (size_t)m;
        t->pad_id = (int32_t)pad_id;
    }
    return 0;
}

/* Normalizes an added token's content as the text around it will be. */
static int normalize_added(clip_added *a)
{
    uint32_t *nfc = NULL;
    size_t n = 0;
    if (uc_nfc(a->text, a->len, &nfc, &n) < 0)
        return -1;
    a->cps = malloc((2 * n + 1) * sizeof(*a->cps));
    if (!a->cps) {
        free(nfc);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        a->n_cps += (size_t)uc_lower(nfc[i], a->cps + a->n_cps);
    free(nfc);
    return 0;
}

static int load_added(clip_tokenizer *t, const cJSON *root, const char *name, int32_t *max_id,
                      hdm_err *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!list || cJSON_IsNull(list))
        return 0;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > CLIP_MAX_ADDED)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: added_tokens must be a list of at most "
                           "%d entries", name, CLIP_MAX_ADDED);
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, list) {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        double id;
        if (!cJSON_IsString(content) || !content->valuestring[0] ||
            !whole_number(cJSON_GetObjectItemCaseSensitive(e, "id"), 0, INT32_MAX - 1, &id))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: added_tokens[%d] needs a non-empty "
                               "content and an integer id", name, i);
        if (!is_off(e, "single_word") || !is_off(e, "lstrip") || !is_off(e, "rstrip"))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: added_tokens[%d] sets single_word, "
                               "lstrip or rstrip, which CLIP's do not", name, i);
        const char *s = content->valuestring;
        size_t len = strlen(s);
        for (size_t k = 0; k < len;) {
            uint32_t cp;
            size_t n = utf8_decode((const uint8_t *)s + k, len - k, &cp);
            if (n == 0 || uc_class_of(cp) == UC_SPACE)
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: added_tokens[%d] content is not "
                                   "valid UTF-8 without spaces", name, i);
            k += n;
        }
        clip_added *a = &t->added[t->n_added];
        a->text = (uint8_t *)strdup(s);
        a->len = len;
        a->id = (int32_t)id;
        /* HF's default for "normalized" is true for tokens that are not special. */
        const cJSON *nz = cJSON_GetObjectItemCaseSensitive(e, "normalized");
        a->normalized = nz ? cJSON_IsTrue(nz) : !cJSON_IsTrue(
                                                    cJSON_GetObjectItemCaseSensitive(e, "special"));
        t->n_added++;
        if (!a->text || normalize_added(a) < 0)
            return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory", name);
        if (a->normalized)
            t->any_norm_added = true;
        else
            t->any_raw_added = true;
        if (a->id > *max_id)
            *max_id = a->id;
        i++;
    }
    return 0;
}

int clip_tokenizer_load_string(const char *json, size_t len, const char *name,
                               clip_tokenizer **out, hdm_err *err)
{
    cJSON *root = NULL;
    clip_tokenizer *t = NULL;
    vocab_map v = {0};
    int r;

    root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: not a JSON object", name);
        goto fail;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: no \"model\" object", name);
        goto fail;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (type && (!cJSON_IsString(type) || strcmp(type->valuestring, "BPE") != 0)) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: model.type is not \"BPE\"", name);
        goto fail;
    }
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsObject(vocab) || !vocab->child) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: model.vocab is missing or empty", name);
        goto fail;
    }
    if (!cJSON_IsArray(merges)) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: model.merges is missing or not a list",
                        name);
        goto fail;
    }
    const char *suffix = "</w>";
    const cJSON *eow = cJSON_GetObjectItemCaseSensitive(model, "end_of_word_suffix");
    if (cJSON_IsString(eow))
        suffix = eow->valuestring;
    else if (cJSON_IsNull(eow))
        suffix = ""; /* HF: no suffix */

    t = calloc(1, sizeof(*t));
    v.cap = pow2_at_least((size_t)cJSON_GetArraySize(vocab) * 2 + 1);
    v.slots = calloc(v.cap, sizeof(*v.slots));
    if (!t || !v.slots) {
        r = hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    int32_t max_id = -1;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, vocab) {
        double d = entry->valuedouble;
        if (!cJSON_IsNumber(entry) || d < 0 || d > INT32_MAX - 1 || d != (double)(int32_t)d) {
            r = hdm_err_set(err, HDM_E_BAD_REQUEST,
                            "%s: model.vocab[\"%s\"] is not a non-negative integer id", name,
                            entry->string);
            goto fail;
        }
        vocab_put(&v, entry->string, (int32_t)d);
        if ((int32_t)d > max_id)
            max_id = (int32_t)d;
    }
    if ((r = load_bytes(t, &v, suffix, name, err)) < 0)
        goto fail;
    if ((r = load_merges(t, &v, merges, name, err)) < 0)
        goto fail;
    if ((r = check_pipeline(t, root, name, err)) < 0 ||
        (r = load_added(t, root, name, &max_id, err)) < 0 ||
        (r = load_trunc_pad(t, root, name, err)) < 0)
        goto fail;
    if (t->sot > max_id)
        max_id = t->sot;
    if (t->eot > max_id)
        max_id = t->eot;
    t->vocab_size = max_id + 1;

    free(v.slots);
    cJSON_Delete(root);
    *out = t;
    return 0;
fail:
    free(v.slots);
    clip_tokenizer_free(t);
    cJSON_Delete(root);
    return r;
}

int clip_tokenizer_load(const char *path, clip_tokenizer **out, hdm_err *err)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    struct stat st;
    int r;

    if (!f)
        return hdm_err_set(err, errno == ENOENT ? HDM_E_NOT_FOUND : HDM_E_BAD_REQUEST,
                           "cannot open tokenizer %s: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "tokenizer %s is not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > TOKENIZER_MAX_FILE) {
        r = hdm_err_set(err, HDM_E_TOO_LARGE, "tokenizer %s is larger than %u bytes", path,
                        TOKENIZER_MAX_FILE);
        goto out;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    if (fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "cannot read tokenizer %s", path);
        goto out;
    }
    r = clip_tokenizer_load_string(text, (size_t)st.st_size, path, out, err);
out:
    free(text);
    fclose(f);
    return r;
}

void clip_tokenizer_free(clip_tokenizer *tok)
{
    if (!tok)
        return;
    bpe_table_free(&tok->merges);
    for (size_t i = 0; i < tok->n_added; i++) {
        free(tok->added[i].text);
        free(tok->added[i].cps);
    }
    free(tok);
}

int32_t clip_tokenizer_sot(const clip_tokenizer *tok)
{
    return tok->sot;
}

int32_t clip_tokenizer_eot(const clip_tokenizer *tok)
{
    return tok->eot;
}

int32_t clip_tokenizer_vocab_size(const clip_tokenizer *tok)
{
    return tok->vocab_size;
}

