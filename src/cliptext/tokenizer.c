/*
 * tokenizer.c - CLIP's byte-level BPE over a HuggingFace tokenizer.json.
 *
 * DESIGN: at load time every vocabulary string is resolved once, so encoding
 * works on integer ids only: each byte has two ids (plain and with the
 * end-of-word suffix) and each merge is an entry (left id, right id) ->
 * (rank, merged id) of an open-addressing hash table.  BPE on a word then
 * repeatedly finds the adjacent pair of lowest rank and merges every
 * occurrence of it left to right, exactly as openai/CLIP's bpe() does.
 * The vocabulary strings themselves are not kept.
 *
 * Encoding stops as soon as the context is full, so the work per request
 * is bounded by CLIP_CONTEXT_LEN tokens, not by the text length (beyond one
 * linear normalisation pass).  Words longer than BPE_MAX_WORD bytes are
 * encoded in pieces of that size to bound the quadratic merge loop; no real
 * vocabulary has tokens anywhere near that long.
 *
 * Normalisation is that of CLIP's tokenizer.json (whitespace runs to one
 * space, lower-case) without its NFC step: text arriving in decomposed form
 * ("e" + U+0301) is tokenized as sent.  Clients send composed text almost
 * always, and an NFC table would be larger than this whole library.
 */
#include "cliptext/tokenizer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>

#include "cliptext/unicode.h"
#include "common/hash.h"

#define BPE_MAX_WORD 1024
/* tokenizer.json files larger than this are refused (the real one is ~3 MB). */
#define TOKENIZER_MAX_FILE (256u * 1024u * 1024u)

static const char SOT_TEXT[] = "<|startoftext|>";
static const char EOT_TEXT[] = "<|endoftext|>";

typedef struct merge_slot {
    uint64_t key;   /* left << 32 | right, or MERGE_EMPTY */
    int32_t rank;
    int32_t merged;
} merge_slot;
#define MERGE_EMPTY UINT64_MAX

struct clip_tokenizer {
    int32_t byte_id[256];     /* id of the byte's symbol */
    int32_t byte_eow_id[256]; /* id of the byte's symbol + end-of-word suffix */
    merge_slot *merges;
    size_t merge_cap;         /* power of two */
    int32_t sot, eot;
    int32_t vocab_size;
};

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

static const merge_slot *merge_find(const clip_tokenizer *t, int32_t left, int32_t right)
{
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    size_t i = hash_mix64(key) & (t->merge_cap - 1);
    for (;;) {
        const merge_slot *s = &t->merges[i];
        if (s->key == MERGE_EMPTY)
            return NULL;
        if (s->key == key)
            return s;
        i = (i + 1) & (t->merge_cap - 1);
    }
}

/* Adds a merge unless the pair is already there (the first rank wins). */
static void merge_put(clip_tokenizer *t, int32_t left, int32_t right, int32_t rank, int32_t merged)
{
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    size_t i = hash_mix64(key) & (t->merge_cap - 1);
    while (t->merges[i].key != MERGE_EMPTY) {
        if (t->merges[i].key == key)
            return;
        i = (i + 1) & (t->merge_cap - 1);
    }
    t->merges[i].key = key;
    t->merges[i].rank = rank;
    t->merges[i].merged = merged;
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

    t->merge_cap = pow2_at_least(n * 2 + 1);
    t->merges = malloc(t->merge_cap * sizeof(*t->merges));
    if (!t->merges)
        return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory for %zu merges", name, n);
    for (size_t k = 0; k < t->merge_cap; k++)
        t->merges[k].key = MERGE_EMPTY;

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
        merge_put(t, left, right, (int32_t)i, merged);
        i++;
    }
out:
    free(joined);
    return r;
}

/* A special token's id: added_tokens, then the vocab, then CLIP's default. */
static int32_t special_id(const cJSON *root, const vocab_map *v, const char *text, int32_t dflt)
{
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    const cJSON *a;
    cJSON_ArrayForEach(a, added) {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(a, "content");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        if (cJSON_IsString(content) && strcmp(content->valuestring, text) == 0 &&
            cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble <= INT32_MAX &&
            id->valuedouble == (double)(int32_t)id->valuedouble)
            return (int32_t)id->valuedouble;
    }
    int id = vocab_find(v, text, strlen(text));
    return id >= 0 ? id : dflt;
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
    t->sot = special_id(root, &v, SOT_TEXT, CLIP_DEFAULT_SOT_ID);
    t->eot = special_id(root, &v, EOT_TEXT, CLIP_DEFAULT_EOT_ID);
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
    free(tok->merges);
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

/* ---- encoding -------------------------------------------------------------- */

/*
 * BPE of one word (bytes w[0..len), 0 < len <= BPE_MAX_WORD, `last` when the
 * piece ends the word): appends its ids to out[*n..cap).  Returns false once
 * the output is full.
 */
static bool bpe_word(const clip_tokenizer *t, const uint8_t *w, size_t len, bool last,
                     int32_t *sym, int32_t *out, int *n, int cap)
{
    size_t count = len;
    for (size_t i = 0; i < len; i++)
        sym[i] = t->byte_id[w[i]];
    if (last)
        sym[len - 1] = t->byte_eow_id[w[len - 1]];

    while (count > 1) {
        int32_t best_rank = INT32_MAX, left = 0, right = 0, merged = 0;
        for (size_t i = 0; i + 1 < count; i++) {
            const merge_slot *m = merge_find(t, sym[i], sym[i + 1]);
            if (m && m->rank < best_rank) {
                best_rank = m->rank;
                left = sym[i];
                right = sym[i + 1];
                merged = m->merged;
            }
        }
        if (best_rank == INT32_MAX)
            break;
        size_t o = 0;
        for (size_t i = 0; i < count;) {
            if (i + 1 < count && sym[i] == left && sym[i + 1] == right) {
                sym[o++] = merged;
                i += 2;
            } else {
                sym[o++] = sym[i++];
            }
        }
        count = o;
    }
    for (size_t i = 0; i < count; i++) {
        if (*n >= cap)
            return false;
        out[(*n)++] = sym[i];
    }
    return true;
}

/*
 * Whitespace clean-up and lower-casing into dst (room for len bytes):
 * runs of \s become one space, leading and trailing space go.  Bytes that
 * are not valid UTF-8 pass through unchanged.  Returns the new length.
 */
static size_t normalise(const uint8_t *src, size_t len, uint8_t *dst)
{
    size_t o = 0;
    bool pending_space = false;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = uc_decode(src + i, len - i, &cp);
        if (cp != UC_INVALID && uc_is_space(cp)) {
            pending_space = o > 0;
            i += n;
            continue;
        }
        if (pending_space) {
            dst[o++] = ' ';
            pending_space = false;
        }
        if (cp == UC_INVALID) {
            dst[o++] = src[i];
        } else {
            uint8_t enc[4];
            size_t m = uc_encode(uc_tolower(cp), enc);
            if (m != n) { /* the table keeps lengths; stay safe regardless */
                memcpy(enc, src + i, n);
                m = n;
            }
            memcpy(dst + o, enc, m);
            o += m;
        }
        i += n;
    }
    return o;
}

enum char_class { CC_SPACE, CC_LETTER, CC_NUMBER, CC_OTHER };

static enum char_class classify(const uint8_t *s, size_t len, size_t *n)
{
    uint32_t cp;
    *n = uc_decode(s, len, &cp);
    if (cp == UC_INVALID)
        return CC_OTHER;
    if (uc_is_space(cp))
        return CC_SPACE;
    if (uc_is_letter(cp))
        return CC_LETTER;
    if (uc_is_number(cp))
        return CC_NUMBER;
    return CC_OTHER;
}

static bool starts_with(const uint8_t *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len >= n && memcmp(s, lit, n) == 0;
}

/*
 * CLIP's pre-tokenisation regex at s[0..len) (no leading space): returns the
 * length of the next pre-token and sets *special to the id when it is one
 * of the special tokens (-1 otherwise).
 */
static size_t next_pretoken(const clip_tokenizer *t, const uint8_t *s, size_t len,
                            int32_t *special)
{
    static const char *const contractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    size_t n, end;

    *special = -1;
    if (starts_with(s, len, SOT_TEXT)) {
        *special = t->sot;
        return strlen(SOT_TEXT);
    }
    if (starts_with(s, len, EOT_TEXT)) {
        *special = t->eot;
        return strlen(EOT_TEXT);
    }
    for (size_t i = 0; i < sizeof(contractions) / sizeof(contractions[0]); i++)
        if (starts_with(s, len, contractions[i]))
            return strlen(contractions[i]);

    enum char_class first = classify(s, len, &n);
    if (first == CC_NUMBER)
        return n;
    end = n;
    while (end < len) {
        enum char_class c = classify(s + end, len - end, &n);
        if (c != first)
            break;
        end += n;
    }
    return end;
}

int clip_tokenize(const clip_tokenizer *tok, const char *text, size_t len, int32_t *ids,
                  int max_len, hdm_err *err)
{
    uint8_t *norm = NULL;
    int32_t *sym = NULL;
    int n = 0;

    if (max_len < 2)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "token limit %d is below 2", max_len);
    if (!text && len > 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "text is NULL");
    norm = malloc(len ? len : 1);
    sym = malloc(BPE_MAX_WORD * sizeof(*sym));
    if (!norm || !sym) {
        free(norm);
        free(sym);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory tokenizing %zu bytes", len);
    }
    size_t nlen = normalise((const uint8_t *)text, len, norm);

    ids[n++] = tok->sot;
    int cap = max_len - 1; /* keep room for the end token */
    bool room = true;
    for (size_t i = 0; i < nlen && room;) {
        if (norm[i] == ' ') {
            i++;
            continue;
        }
        int32_t special;
        size_t plen = next_pretoken(tok, norm + i, nlen - i, &special);
        if (special >= 0) {
            if (n < cap)
                ids[n++] = special;
            else
                room = false;
        } else {
            for (size_t off = 0; off < plen && room; off += BPE_MAX_WORD) {
                size_t piece = plen - off < BPE_MAX_WORD ? plen - off : BPE_MAX_WORD;
                room = bpe_word(tok, norm + i + off, piece, off + piece == plen, sym, ids, &n,
                                cap);
            }
        }
        i += plen;
    }
    ids[n++] = tok->eot;
    free(norm);
    free(sym);
    return n;
}
