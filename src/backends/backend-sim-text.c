/*
 * backend-sim-text.c - the simulator's text: its tokenizer, the VLM's
 * token-by-token generation, and whisper's segments.
 *
 * DESIGN: the VLM first composes its whole answer (a short description that
 * says it is simulated, counts the images and picks up words of the last
 * user message), from a random stream seeded by the prompt and images (and,
 * when temperature > 0, by seed, temperature and top_p), then releases it one
 * sim token at a time with the configured per-token latency.  Stop strings
 * are matched on the text generated so far; text that could be the start of
 * a stop string is held back from the deltas until it is known not to be,
 * so a client never sees part of a stop string.  Token counts come from the
 * same tokenizer that splits the answer, so usage is consistent.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "common/buf.h"

/* Longest word piece the sim tokenizer makes. */
#define TOKEN_MAX_BYTES 6
/* Chat-template tokens around each message (<|im_start|>, role, \n, <|im_end|>). */
#define TEMPLATE_TOKENS_PER_MESSAGE 4
#define TEMPLATE_TOKENS_ASSISTANT 3
/* Words of the last user message the answer picks up. */
#define MAX_KEYWORDS 4
/* Whisper segments are at most this long. */
#define WHISPER_SEGMENT_S 5.0

/* ---- tokenizer ----------------------------------------------------------------- */

static bool is_word_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

static bool is_space_byte(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Bytes of the UTF-8 character starting at text[pos], clamped to len. */
static size_t char_len(const char *text, size_t len, size_t pos)
{
    unsigned char c = (unsigned char)text[pos];
    size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    size_t i = 1;
    while (i < n && pos + i < len && ((unsigned char)text[pos + i] & 0xC0) == 0x80)
        i++;
    return i;
}

size_t sim_token_end(const char *text, size_t len, size_t pos)
{
    size_t p = pos;
    unsigned char c = (unsigned char)text[p];

    if (c == ' ' && p + 1 < len && is_word_byte((unsigned char)text[p + 1]))
        p++; /* a single leading space belongs to the word */
    c = (unsigned char)text[p];
    if (is_word_byte(c)) {
        size_t start = p;
        while (p < len && is_word_byte((unsigned char)text[p])) {
            size_t n = char_len(text, len, p);
            if (p > start && p - start + n > TOKEN_MAX_BYTES)
                break;
            p += n;
        }
        return p;
    }
    if (is_space_byte(c)) {
        while (p < len && is_space_byte((unsigned char)text[p]))
            p++;
        /* Leave the last space to the word that follows, as above. */
        if (p - pos > 1 && p < len && text[p - 1] == ' ' && is_word_byte((unsigned char)text[p]))
            p--;
        return p;
    }
    return p + 1;
}

int sim_token_count(const char *text, size_t len)
{
    int n = 0;
    for (size_t pos = 0; pos < len; pos = sim_token_end(text, len, pos))
        n++;
    return n;
}

static int str_tokens(const char *s)
{
    return s ? sim_token_count(s, strlen(s)) : 0;
}

int sim_vlm_prompt_tokens(const infer_input *in)
{
    int n = 0;
    if (in->u.vlm.n_messages > 0) {
        for (size_t i = 0; i < in->u.vlm.n_messages; i++) {
            const chat_message *msg = &in->u.vlm.messages[i];
            n += TEMPLATE_TOKENS_PER_MESSAGE + str_tokens(msg->role) + str_tokens(msg->text) +
                 SIM_VLM_IMAGE_TOKENS * (msg->n_images > 0 ? msg->n_images : 0);
        }
    } else {
        n += TEMPLATE_TOKENS_PER_MESSAGE + str_tokens("user") + str_tokens(in->u.vlm.prompt) +
             SIM_VLM_IMAGE_TOKENS * (int)in->u.vlm.n_frames;
    }
    return n + TEMPLATE_TOKENS_ASSISTANT;
}

/* ---- composing the answer ------------------------------------------------------- */

static const char *const adjectives[] = {
    "bright", "quiet",  "small", "wide", "colourful", "simple", "busy", "calm",
    "wooden", "modern", "green", "dark", "sunny",     "narrow", "tidy", "old",
};
static const char *const nouns[] = {
    "table", "window", "street", "tree", "person", "car",  "building", "wall", "lamp",   "chair",
    "sign",  "garden", "door",   "cup",  "shelf",  "road", "bicycle",  "cat",  "screen", "bench",
};
static const char *const verbs[] = {
    "stands", "rests", "appears", "sits", "is visible", "is placed", "leans", "is shown",
};
static const char *const preps[] = {
    "next to", "behind", "in front of", "near", "under", "beside", "above", "across from",
};
static const char *const number_words[] = {"no",  "one",   "two",   "three", "four", "five",
                                           "six", "seven", "eight", "nine",  "ten"};
/* Words too common to be what the user asked about. */
static const char *const stopwords[] = {
    "the",   "and",  "this",      "that",  "what",   "with",    "for",      "are",   "you",
    "your",  "can",  "please",    "image", "images", "picture", "describe", "tell",  "about",
    "there", "from", "show",      "shows", "does",   "which",   "how",      "who",   "its",
    "have",  "has",  "was",       "were",  "into",   "some",    "any",      "all",   "one",
    "see",   "look", "give",      "me",    "is",     "in",      "of",       "here",  "where",
    "when",  "why",  "happening", "doing", "going",  "they",    "them",     "these", "those",
    "then",  "than", "very",      "just",  "could",  "would",   "should",   "will",  "scene",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct composer {
    uint64_t rng;
    double temperature;
} composer;

/* Picks a word: low temperatures keep to the head of the list. */
static const char *pick(composer *c, const char *const *words, size_t n)
{
    double t = c->temperature < 0 ? 0 : c->temperature;
    size_t width = (size_t)lround((double)n * (0.35 + 0.5 * t));
    if (width < 2)
        width = 2;
    if (width > n)
        width = n;
    return words[sim_rng_next(&c->rng) % width];
}

static bool is_stopword(const char *w)
{
    for (size_t i = 0; i < COUNT(stopwords); i++)
        if (strcmp(stopwords[i], w) == 0)
            return true;
    return false;
}

/* Picks up to MAX_KEYWORDS distinct words (3+ bytes, not stopwords) of text. */
static size_t keywords_of(const char *text, char kw[MAX_KEYWORDS][32])
{
    size_t n = 0, len = text ? strlen(text) : 0, pos = 0;
    while (pos < len && n < MAX_KEYWORDS) {
        while (pos < len && !is_word_byte((unsigned char)text[pos]))
            pos++;
        size_t start = pos;
        while (pos < len && is_word_byte((unsigned char)text[pos]))
            pos++;
        size_t wl = pos - start;
        if (wl < 3 || wl >= 32)
            continue;
        char word[32];
        for (size_t i = 0; i < wl; i++)
            word[i] = (char)tolower((unsigned char)text[start + i]);
        word[wl] = '\0';
        bool dup = is_stopword(word);
        for (size_t i = 0; i < n && !dup; i++)
            dup = strcmp(kw[i], word) == 0;
        if (!dup)
            memcpy(kw[n++], word, wl + 1);
    }
    return n;
}

static const char *last_user_text(const infer_input *in)
{
    for (size_t i = in->u.vlm.n_messages; i > 0; i--) {
        const chat_message *msg = &in->u.vlm.messages[i - 1];
        if (msg->role && strcmp(msg->role, "user") == 0)
            return msg->text;
    }
    return in->u.vlm.prompt;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    uint64_t s = h ^ v;
    return sim_rng_next(&s);
}

/* The random stream: the same prompt and images give the same answer;
 * with temperature > 0 seed, temperature and top_p also count. */
static uint64_t answer_seed(const backend_model *m, const infer_input *in)
{
    uint64_t h = m->seed;
    if (in->u.vlm.prompt)
        h = sim_hash(h, in->u.vlm.prompt, strlen(in->u.vlm.prompt));
    for (size_t i = 0; i < in->u.vlm.n_messages; i++) {
        const chat_message *msg = &in->u.vlm.messages[i];
        if (msg->role)
            h = sim_hash(h, msg->role, strlen(msg->role) + 1);
        if (msg->text)
            h = sim_hash(h, msg->text, strlen(msg->text) + 1);
        h = mix(h, (uint64_t)msg->n_images);
    }
    for (size_t i = 0; i < in->u.vlm.n_frames; i++)
        h = sim_hash(h, in->u.vlm.frames[i].data, in->u.vlm.frames[i].nbytes);
    if (in->u.vlm.temperature > 0) {
        uint64_t bits;
        h = mix(h, in->u.vlm.has_seed ? in->u.vlm.seed : 0);
        memcpy(&bits, &in->u.vlm.temperature, sizeof(bits));
        h = mix(h, bits);
        memcpy(&bits, &in->u.vlm.top_p, sizeof(bits));
        h = mix(h, bits);
    }
    return h;
}

static int compose_answer(const backend_model *m, const infer_input *in, size_t n_images, buf *text)
{
    composer c = {.rng = answer_seed(m, in), .temperature = in->u.vlm.temperature};
    char kw[MAX_KEYWORDS][32];
    size_t n_kw = keywords_of(last_user_text(in), kw);
    int rc = buf_printf(text, "This is a simulated answer from the Hailo-10H simulator.");

    if (n_images == 0)
        rc = rc ?: buf_printf(text, " No image was given, so I can only go by the text.");
    else if (n_images < COUNT(number_words))
        rc = rc
                 ?: buf_printf(text, " I was given %s image%s.", number_words[n_images],
                               n_images == 1 ? "" : "s");
    else
        rc = rc ?: buf_printf(text, " I was given %zu images.", n_images);
    if (n_kw > 0) {
        rc = rc ?: buf_printf(text, " You asked about");
        for (size_t i = 0; i < n_kw; i++)
            rc = rc ?: buf_printf(text, "%s %s", i == 0 ? "" : i + 1 == n_kw ? " and" : ",", kw[i]);
        rc = rc ?: buf_printf(text, ".");
    }
    for (size_t i = 0; i < n_images && i < 4; i++)
        rc = rc
                 ?: buf_printf(text, " Image %zu shows a %s %s %s the %s.", i + 1,
                               pick(&c, adjectives, COUNT(adjectives)),
                               pick(&c, nouns, COUNT(nouns)), pick(&c, preps, COUNT(preps)),
                               pick(&c, nouns, COUNT(nouns)));
    int sentences = 2 + (int)(sim_rng_next(&c.rng) % 3);
    for (int s = 0; s < sentences; s++) {
        const char *subject =
            n_kw > 0 && s == 0 ? kw[sim_rng_next(&c.rng) % n_kw] : pick(&c, nouns, COUNT(nouns));
        rc = rc
                 ?: buf_printf(text, " The %s %s %s %s the %s %s.",
                               pick(&c, adjectives, COUNT(adjectives)), subject,
                               pick(&c, verbs, COUNT(verbs)), pick(&c, preps, COUNT(preps)),
                               pick(&c, adjectives, COUNT(adjectives)),
                               pick(&c, nouns, COUNT(nouns)));
    }
    rc = rc
             ?: buf_printf(text, " Overall the scene looks %s.",
                           pick(&c, adjectives, COUNT(adjectives)));
    return rc;
}

/* ---- releasing it token by token ------------------------------------------------- */

typedef struct emitter {
    const infer_input *in;
    const infer_hooks *hooks;
    size_t max_stop; /* longest stop string */
    size_t emitted;  /* bytes of out already given to on_delta */
} emitter;

/* Earliest stop string match in text[0..len) that ends after `from`. */
static long find_stop(const emitter *e, const char *text, size_t len, size_t from)
{
    long best = -1;
    for (size_t i = 0; i < e->in->u.vlm.n_stop; i++) {
        const char *stop = e->in->u.vlm.stop[i];
        size_t sl = stop ? strlen(stop) : 0;
        if (sl == 0 || sl > len)
            continue;
        size_t start = from >= sl ? from - sl + 1 : 0;
        const char *hit = memmem(text + start, len - start, stop, sl);
        if (hit && (best < 0 || hit - text < best))
            best = hit - text;
    }
    return best;
}

static void emit_upto(emitter *e, const char *text, size_t upto)
{
    if (upto <= e->emitted)
        return;
    if (e->hooks && e->hooks->on_delta)
        e->hooks->on_delta(e->hooks->ctx, text + e->emitted, upto - e->emitted);
    e->emitted = upto;
}

int sim_infer_vlm(const backend *b, backend_model *m, const infer_input *in,
                  const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    buf plan = {0}, gen = {0};
    emitter e = {.in = in, .hooks = hooks};
    size_t n_images = 0, pos = 0;
    int completion = 0, rc;
    const char *finish = "stop";

    /* Frames: each is one image of the model's input size. */
    for (size_t i = 0; i < in->u.vlm.n_frames; i++) {
        const hdm_tensor *f = &in->u.vlm.frames[i];
        const int64_t *s = f->shape;
        int off = f->ndim == 4 && s[0] == 1 ? 1 : 0;
        if (f->dtype != HDM_DT_UINT8 || f->ndim - off != 3 || s[off] != SIM_VLM_FRAME_SIZE ||
            s[off + 1] != SIM_VLM_FRAME_SIZE || s[off + 2] != 3) {
            char got[128];
            return hdm_err_set(
                err, HDM_E_BAD_REQUEST, "input_data.frames[%zu]: expected uint8 [%d,%d,3], got %s",
                i, SIM_VLM_FRAME_SIZE, SIM_VLM_FRAME_SIZE, sim_tensor_desc(f, got, sizeof(got)));
        }
    }
    if (in->u.vlm.n_messages > 0) {
        for (size_t i = 0; i < in->u.vlm.n_messages; i++)
            n_images +=
                in->u.vlm.messages[i].n_images > 0 ? (size_t)in->u.vlm.messages[i].n_images : 0;
        if (n_images > in->u.vlm.n_frames)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "the messages have %zu image parts but only %zu frames were sent",
                               n_images, in->u.vlm.n_frames);
    }
    n_images = in->u.vlm.n_frames;

    for (size_t i = 0; i < in->u.vlm.n_stop; i++) {
        size_t sl = in->u.vlm.stop[i] ? strlen(in->u.vlm.stop[i]) : 0;
        e.max_stop = sl > e.max_stop ? sl : e.max_stop;
    }

    /* Prefill: each image through the vision encoder, then the prompt: one
     * device operation each (sim-npu.c). */
    for (size_t i = 0; i <= n_images; i++) {
        rc = sim_npu_run(b, m, 0, m->infer_ms, hooks, err);
        if (rc < 0)
            return rc;
    }
    if (compose_answer(m, in, n_images, &plan) < 0 || buf_reserve(&gen, plan.len + 1) < 0) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory generating text");
        goto out;
    }

    while (pos < plan.len) {
        if (completion >= in->u.vlm.max_tokens) {
            finish = "length";
            break;
        }
        rc = sim_npu_run(b, m, 0, m->token_ms, hooks, err); /* one token, one device operation */
        if (rc < 0)
            goto out;
        size_t end = sim_token_end((const char *)plan.data, plan.len, pos);
        size_t before = gen.len;
        buf_append(&gen, plan.data + pos, end - pos); /* room reserved above */
        pos = end;
        completion++;

        long stop_at = e.max_stop ? find_stop(&e, (const char *)gen.data, gen.len, before) : -1;
        if (stop_at >= 0) {
            gen.len = (size_t)stop_at;
            emit_upto(&e, (const char *)gen.data, gen.len);
            finish = "stop";
            break;
        }
        /* Hold back what could still become a stop string, on a UTF-8 boundary. */
        size_t safe = gen.len;
        if (e.max_stop > 1)
            safe = gen.len >= e.max_stop - 1 ? gen.len - (e.max_stop - 1) : 0;
        while (safe > e.emitted && safe < gen.len && (gen.data[safe] & 0xC0) == 0x80)
            safe--;
        emit_upto(&e, (const char *)gen.data, safe);
    }
    emit_upto(&e, (const char *)gen.data, gen.len);

    gen.data[gen.len] = '\0';
    out->result = cJSON_CreateString((const char *)gen.data);
    if (!out->result) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
        goto out;
    }
    out->prompt_tokens = sim_vlm_prompt_tokens(in);
    out->completion_tokens = completion;
    out->finish_reason = finish;
    rc = 0;
out:
    buf_free(&plan);
    buf_free(&gen);
    return rc;
}

/* ---- whisper ---------------------------------------------------------------------- */

static const char *const speech_words[] = {
    "we",    "will",  "meet",  "tomorrow",  "morning",  "at",   "the",      "station",
    "and",   "then",  "walk",  "to",        "office",   "it",   "looks",    "like",
    "rain",  "later", "today", "so",        "bring",    "an",   "umbrella", "please",
    "thank", "you",   "for",   "listening", "everyone", "this", "is",       "a",
    "short", "note",  "about", "project",   "plan",
};

static int whisper_segment_text(uint64_t seed, int id, const infer_input *in, buf *text)
{
    uint64_t rng = seed;
    int words = 5 + (int)(sim_rng_next(&rng) % 6);
    int rc = 0;

    if (id == 0) {
        rc = buf_printf(text, " This is a simulated %s",
                        in->u.whisper.task == WHISPER_TRANSLATE ? "translation" : "transcript");
        if (in->u.whisper.language[0] && strcmp(in->u.whisper.language, "en") != 0)
            rc = rc ?: buf_printf(text, " from language %s", in->u.whisper.language);
        rc = rc ?: buf_printf(text, ".");
    }
    for (int w = 0; w < words && rc == 0; w++) {
        const char *word = speech_words[sim_rng_next(&rng) % COUNT(speech_words)];
        if (w == 0)
            rc = buf_printf(text, " %c%s", toupper((unsigned char)word[0]), word + 1);
        else
            rc = buf_printf(text, " %s", word);
    }
    return rc ?: buf_printf(text, ".");
}

int sim_infer_whisper(const backend *b, backend_model *m, const infer_input *in,
                      const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    const hdm_tensor *a = &in->u.whisper.audio;
    cJSON *segments = NULL;
    buf text = {0};
    int rc;

    if (a->dtype != HDM_DT_FLOAT32 || !(a->ndim == 1 || (a->ndim == 2 && a->shape[0] == 1))) {
        char got[128];
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.audio: expected float32 [samples] (16 kHz mono), got %s",
                           sim_tensor_desc(a, got, sizeof(got)));
    }
    const float *samples = a->data;
    size_t n = a->nbytes / sizeof(float);
    double seconds = (double)n / SIM_WHISPER_RATE;

    /* The encoder runs once per 30 s window: a device operation each. */
    for (double w = 0; w < ceil(seconds / 30.0); w++) {
        rc = sim_npu_run(b, m, 0, m->infer_ms, hooks, err);
        if (rc < 0)
            return rc;
    }
    out->result = cJSON_CreateObject();
    segments = cJSON_AddArrayToObject(out->result, "segments");
    if (!segments)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");

    size_t per_seg = (size_t)(WHISPER_SEGMENT_S * SIM_WHISPER_RATE);
    int id = 0;
    for (size_t start = 0; start < n; start += per_seg) {
        size_t end = start + per_seg < n ? start + per_seg : n;
        double energy = 0;
        uint64_t h = m->seed;
        for (size_t i = start; i < end; i++) {
            float s = isfinite(samples[i]) ? samples[i] : 0.0f;
            energy += (double)s * s;
            int16_t q = (int16_t)(fmaxf(-1.0f, fminf(1.0f, s)) * 32767.0f);
            h = sim_hash(h, &q, sizeof(q));
        }
        if (sqrt(energy / (double)(end - start)) < 1e-3)
            continue; /* silence gets no segment, as with the real model */
        h = sim_hash(h, in->u.whisper.language, strlen(in->u.whisper.language));
        h = mix(h, (uint64_t)in->u.whisper.task);
        buf_reset(&text);
        if (whisper_segment_text(h, id, in, &text) < 0 || buf_append(&text, "", 1) < 0) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
            goto out;
        }
        /* The decoder produces the segment token by token: an operation each. */
        int tokens = sim_token_count((char *)text.data, text.len - 1);
        rc = 0;
        for (int k = 0; k < tokens && rc == 0; k++)
            rc = sim_npu_run(b, m, 1, m->token_ms, hooks, err);
        if (rc < 0)
            goto out;
        cJSON *seg = cJSON_CreateObject();
        if (!seg || !cJSON_AddItemToArray(segments, seg) ||
            !cJSON_AddNumberToObject(seg, "id", id) ||
            !cJSON_AddNumberToObject(seg, "start",
                                     round((double)start / SIM_WHISPER_RATE * 100) / 100) ||
            !cJSON_AddNumberToObject(seg, "end",
                                     round((double)end / SIM_WHISPER_RATE * 100) / 100) ||
            !cJSON_AddStringToObject(seg, "text", (char *)text.data)) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
            goto out;
        }
        id++;
    }
    rc = 0;
out:
    buf_free(&text);
    return rc;
}
