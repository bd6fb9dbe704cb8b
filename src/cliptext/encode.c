/*
 * encode.c - text -> ids, step for step as HuggingFace tokenizers does it
 * for CLIP's tokenizer.json (tokenizer.h lists the steps).
 *
 * DESIGN: the text is cut at ASCII whitespace into segments and each
 * segment goes through the whole pipeline before the next one is looked
 * at, so a request that only needs the first 77 ids stops early.  The cut
 * changes nothing: whitespace never belongs to a pre-token, added tokens
 * hold no whitespace (checked at load), and an ASCII space is a boundary
 * for NFC (a starter nothing composes with), so normalising segment by
 * segment gives what normalising the whole text gives.  The Replace(\s+)
 * step of the normalizer only rewrites whitespace, which the Split drops,
 * so it has no effect on ids and is not run.
 *
 * Segments of ASCII skip utf8proc.  Words go to bpe.c whole, up to the
 * limits of tokenizer.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cliptext/tok_internal.h"
#include "cliptext/unicode.h"
#include "common/utf8.h"

/* Returned by the steps once the wanted number of ids is reached. */
#define ENC_FULL 1
/* Inline room for the usual prompt: no allocation below these sizes. */
#define ENC_INLINE_IDS 128
#define ENC_INLINE_CPS 256

typedef struct enc {
    const clip_tokenizer *t;
    int32_t *ids;     /* inline_ids or malloc'd */
    size_t n, cap;
    size_t limit;     /* stop once n reaches it */
    uint32_t *cps;    /* the current segment, normalized */
    size_t cps_cap;
    uint8_t *word;    /* UTF-8 of the current word */
    size_t word_cap;
    bpe_work bpe;
    hdm_err *err;
    int32_t inline_ids[ENC_INLINE_IDS];
    uint32_t inline_cps[ENC_INLINE_CPS];
    uint8_t inline_word[4 * ENC_INLINE_CPS];
} enc;

static void enc_init(enc *e, const clip_tokenizer *t, hdm_err *err)
{
    e->t = t;
    e->err = err;
    e->n = 0;
    e->limit = SIZE_MAX;
    e->ids = e->inline_ids;
    e->cap = ENC_INLINE_IDS;
    e->cps = e->inline_cps;
    e->cps_cap = ENC_INLINE_CPS;
    e->word = e->inline_word;
    e->word_cap = sizeof(e->inline_word);
    e->bpe = (bpe_work){0};
}

static void enc_free(enc *e)
{
    if (e->ids != e->inline_ids)
        free(e->ids);
    if (e->cps != e->inline_cps)
        free(e->cps);
    if (e->word != e->inline_word)
        free(e->word);
    bpe_work_free(&e->bpe);
}

static int nomem(enc *e)
{
    return hdm_err_set(e->err, HDM_E_NOMEM, "out of memory tokenizing");
}

/* Room for `want` elements in *p (inline storage `in` at first); the first
 * `keep` elements are kept. */
static int grow(void **p, size_t *cap, size_t want, size_t elem, const void *in, size_t keep)
{
    if (want <= *cap)
        return 0;
    size_t c = *cap * 2;
    while (c < want)
        c *= 2;
    void *q = malloc(c * elem);
    if (!q)
        return -1;
    memcpy(q, *p, keep * elem);
    if (*p != in)
        free(*p);
    *p = q;
    *cap = c;
    return 0;
}

/* Appends id; ENC_FULL once the limit is reached. */
static int push(enc *e, int32_t id)
{
    if (e->n >= e->limit)
        return ENC_FULL;
    if (e->n == e->cap &&
        grow((void **)&e->ids, &e->cap, e->n + 1, sizeof(*e->ids), e->inline_ids, e->n) < 0)
        return nomem(e);
    e->ids[e->n++] = id;
    return e->n >= e->limit ? ENC_FULL : 0;
}

/* Byte-level symbols of one pre-token, merged, appended. */
static int emit_word(enc *e, const uint32_t *cps, size_t n)
{
    const clip_tokenizer *t = e->t;
    if (grow((void **)&e->word, &e->word_cap, n * 4, 1, e->inline_word, 0) < 0)
        return nomem(e);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += uc_encode(cps[i], e->word + len);
    if (len > CLIP_MAX_WORD_BYTES)
        return hdm_err_set(e->err, HDM_E_BAD_REQUEST,
                           "the text has a word of %zu bytes; the tokenizer takes words of at "
                           "most %d bytes", len, CLIP_MAX_WORD_BYTES);
    if (len == 1)
        return push(e, t->byte_eow_id[e->word[0]]);
    if (len > INT32_MAX || bpe_work_reserve(&e->bpe, len) < 0)
        return nomem(e);
    for (size_t i = 0; i < len; i++)
        e->bpe.sym[i].id = t->byte_id[e->word[i]];
    e->bpe.sym[len - 1].id = t->byte_eow_id[e->word[len - 1]];
    if (bpe_merge_word(&t->merges, &e->bpe, len) < 0)
        return nomem(e);
    for (int32_t i = 0; i >= 0; i = e->bpe.sym[i].next) {
        int r = push(e, e->bpe.sym[i].id);
        if (r)
            return r;
    }
    return 0;
}

static bool starts_with_ascii(const uint32_t *cps, size_t n, const char *lit)
{
    size_t k = 0;
    for (; lit[k]; k++)
        if (k >= n || cps[k] != (uint8_t)lit[k])
            return false;
    return true;
}

/*
 * Length of the pre-token at cps[0..n) (cps[0] is not a space), by the
 * alternatives of CLIP's regex in their order: (the special tokens, in the
 * older form of the regex), the contractions, [\p{L}]+, [\p{N}],
 * [^\s\p{L}\p{N}]+.
 */
static size_t pretoken_len(const clip_tokenizer *t, const uint32_t *cps, size_t n)
{
    static const char *const specials[] = {"<|startoftext|>", "<|endoftext|>"};
    static const char *const contractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    if (t->regex_specials && cps[0] == '<')
        for (size_t i = 0; i < 2; i++)
            if (starts_with_ascii(cps, n, specials[i]))
                return strlen(specials[i]);
    if (cps[0] == '\'')
        for (size_t i = 0; i < sizeof(contractions) / sizeof(contractions[0]); i++)
            if (starts_with_ascii(cps, n, contractions[i]))
                return strlen(contractions[i]);
    enum uc_class first = uc_class_of(cps[0]);
    if (first == UC_NUMBER)
        return 1;
    size_t end = 1;
    while (end < n && uc_class_of(cps[end]) == first)
        end++;
    return end;
}

/* Split + ByteLevel + BPE over normalized text without added tokens. */
static int pretokenize(enc *e, const uint32_t *cps, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (uc_class_of(cps[i]) == UC_SPACE) {
            i++;
            continue;
        }
        size_t len = pretoken_len(e->t, cps + i, n - i);
        int r = emit_word(e, cps + i, len);
        if (r)
            return r;
        i += len;
    }
    return 0;
}

/* Leftmost-longest added token of the wanted kind in cps[0..n): its index
 * (or -1) and start. */
static int find_added_cps(const clip_tokenizer *t, const uint32_t *cps, size_t n, size_t *at)
{
    for (size_t i = 0; i < n; i++) {
        int best = -1;
        for (size_t k = 0; k < t->n_added; k++) {
            const clip_added *a = &t->added[k];
            if (!a->normalized || a->n_cps > n - i ||
                memcmp(cps + i, a->cps, a->n_cps * sizeof(*cps)) != 0)
                continue;
            if (best < 0 || a->n_cps > t->added[best].n_cps)
                best = (int)k;
        }
        if (best >= 0) {
            *at = i;
            return best;
        }
    }
    return -1;
}

/* Normalizer, then the added tokens matched in the normalized text, then
 * the pre-tokenizer, over raw UTF-8 without whitespace or raw added tokens. */
static int normalized_piece(enc *e, const uint8_t *s, size_t len)
{
    const clip_tokenizer *t = e->t;
    size_t n = 0;
    bool ascii = true;
    for (size_t i = 0; i < len && ascii; i++)
        ascii = s[i] < 0x80;
    if (ascii) {
        if (grow((void **)&e->cps, &e->cps_cap, len, sizeof(*e->cps), e->inline_cps, 0) < 0)
            return nomem(e);
        for (size_t i = 0; i < len; i++)
            e->cps[i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32u : s[i];
        n = len;
    } else {
        uint32_t *nfc = NULL;
        size_t n_nfc = 0;
        if (uc_nfc(s, len, &nfc, &n_nfc) < 0)
            return nomem(e);
        /* Lower-casing at most doubles the count (U+0130 gives two). */
        if (grow((void **)&e->cps, &e->cps_cap, 2 * n_nfc, sizeof(*e->cps), e->inline_cps,
                 0) < 0) {
            free(nfc);
            return nomem(e);
        }
        for (size_t i = 0; i < n_nfc; i++)
            n += (size_t)uc_lower(nfc[i], e->cps + n);
        free(nfc);
    }
    const uint32_t *cps = e->cps;
    if (!t->any_norm_added)
        return pretokenize(e, cps, n);
    for (;;) {
        size_t at = 0;
        int k = find_added_cps(t, cps, n, &at);
        if (k < 0)
            return pretokenize(e, cps, n);
        int r = pretokenize(e, cps, at);
        if (!r)
            r = push(e, t->added[k].id);
        if (r)
            return r;
        cps += at + t->added[k].n_cps;
        n -= at + t->added[k].n_cps;
    }
}

/* A segment of raw text: added tokens matched before normalization
 * ("normalized": false) are cut out first. */
static int raw_segment(enc *e, const uint8_t *s, size_t len)
{
    const clip_tokenizer *t = e->t;
    while (t->any_raw_added) {
        size_t at = 0;
        int best = -1;
        for (size_t i = 0; i < len && best < 0; i++) {
            for (size_t k = 0; k < t->n_added; k++) {
                const clip_added *a = &t->added[k];
                if (a->normalized || a->len > len - i || memcmp(s + i, a->text, a->len) != 0)
                    continue;
                if (best < 0 || a->len > t->added[best].len)
                    best = (int)k;
            }
            at = i;
        }
        if (best < 0)
            break;
        int r = normalized_piece(e, s, at);
        if (!r)
            r = push(e, t->added[best].id);
        if (r)
            return r;
        s += at + t->added[best].len;
        len -= at + t->added[best].len;
    }
    return normalized_piece(e, s, len);
}

static bool ascii_space(uint8_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D);
}

/* The ids of the text between the special tokens, at most e->limit. */
static int encode_content(enc *e, const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        while (i < len && ascii_space(s[i]))
            i++;
        size_t start = i;
        while (i < len && !ascii_space(s[i]))
            i++;
        if (i > start) {
            int r = raw_segment(e, s + start, i - start);
            if (r)
                return r;
        }
    }
    return 0;
}

static int check_utf8(const uint8_t *s, size_t len, hdm_err *err)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "text is not valid UTF-8 (byte %zu)", i);
        i += n;
    }
    return 0;
}

/*
 * The HF encoding into e->ids[0..e->n), of which only the first `want` ids
 * matter to the caller (SIZE_MAX: all): start token, content (cut by the
 * truncation setting), end token, padding.  e is initialised here; the
 * caller frees it with enc_free() whatever the result.
 */
static int encode_ids(enc *e, const clip_tokenizer *t, const char *text, size_t len,
                      size_t want, hdm_err *err)
{
    int r;
    enc_init(e, t, err);
    if (!text && len > 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "text is NULL");
    if (len > CLIP_MAX_TEXT_BYTES)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "text is %zu bytes; the tokenizer takes at "
                           "most %d", len, CLIP_MAX_TEXT_BYTES);
    if ((r = check_utf8((const uint8_t *)text, len, err)) < 0)
        return r;
    if ((r = push(e, t->sot)) < 0)
        return r;
    /* HF truncates the content so that it and the two special tokens fit. */
    size_t content_max = t->trunc_max ? t->trunc_max - 2 : SIZE_MAX;
    if (want != SIZE_MAX && want - 1 < content_max)
        content_max = want - 1;
    e->limit = content_max == SIZE_MAX ? SIZE_MAX : 1 + content_max;
    if (content_max > 0 && (r = encode_content(e, (const uint8_t *)text, len)) < 0)
        return r;
    e->limit = SIZE_MAX;
    if ((r = push(e, t->eot)) < 0)
        return r;
    if (t->pad) {
        size_t target = t->pad_fixed > e->n ? t->pad_fixed : e->n;
        if (t->pad_multiple && target % t->pad_multiple)
            target += t->pad_multiple - target % t->pad_multiple;
        if (want < target)
            target = want > e->n ? want : e->n;
        while (e->n < target)
            if ((r = push(e, t->pad_id)) < 0)
                return r;
    }
    return 0;
}

int clip_tokenize_all(const clip_tokenizer *tok, const char *text, size_t len, int32_t **ids,
                      size_t *n, hdm_err *err)
{
    enc e;
    int r = encode_ids(&e, tok, text, len, SIZE_MAX, err);
    if (r == 0) {
        if (e.ids == e.inline_ids) {
            int32_t *copy = malloc((e.n ? e.n : 1) * sizeof(*copy));
            if (copy)
                memcpy(copy, e.ids, e.n * sizeof(*copy));
            else
                r = nomem(&e);
            *ids = copy;
        } else {
            *ids = e.ids;
            e.ids = e.inline_ids; /* handed over */
        }
        *n = e.n;
    }
    enc_free(&e);
    return r;
}

int clip_tokenize(const clip_tokenizer *tok, const char *text, size_t len, int32_t *ids,
                  int max_len, int *eot_pos, hdm_err *err)
{
    enc e;
    if (max_len < 1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "token limit %d is below 1", max_len);
    int r = encode_ids(&e, tok, text, len, (size_t)max_len, err);
    if (r == 0) {
        /* hailo-apps: ids[:max_len], then zeros; the end token searched in that. */
        *eot_pos = max_len - 1;
        for (int i = max_len - 1; i >= 0; i--) {
            ids[i] = (size_t)i < e.n ? e.ids[i] : CLIP_PAD_ID;
            if (ids[i] == tok->eot)
                *eot_pos = i;
        }
    }
    enc_free(&e);
    return r;
}
