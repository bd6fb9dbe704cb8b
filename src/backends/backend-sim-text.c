/*
 * backend-sim-text.c - the simulator's text: its tokenizer, the word lists
 * and the release of an answer token by token that the VLM and the LLM
 * (sim-llm.c) share, and the VLM's answers (whisper's segments are in
 * sim-whisper.c).
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
#include "common/textstream.h"

/* Longest word piece the sim tokenizer makes. */
#define TOKEN_MAX_BYTES 6
/* Chat-template tokens around each message (<|im_start|>, role, \n, <|im_end|>). */
#define TEMPLATE_TOKENS_PER_MESSAGE 4
#define TEMPLATE_TOKENS_ASSISTANT 3
/* Words of the last user message the answer picks up. */
#define MAX_KEYWORDS 4

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
    "their", "did",  "his",       "her",   "our",    "many",    "most",     "much",  "more",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Picks a word: low temperatures keep to the head of the list. */
static const char *pick(sim_composer *c, const char *const *words, size_t n)
{
    double t = c->temperature < 0 ? 0 : c->temperature;
    size_t width = (size_t)lround((double)n * (0.35 + 0.5 * t));
    if (width < 2)
        width = 2;
    if (width > n)
        width = n;
    return words[sim_rng_next(&c->rng) % width];
}

const char *sim_pick(sim_composer *c, enum sim_words list)
{
    switch (list) {
    case SIM_WORDS_ADJECTIVE:
        return pick(c, adjectives, COUNT(adjectives));
    case SIM_WORDS_NOUN:
        return pick(c, nouns, COUNT(nouns));
    case SIM_WORDS_VERB:
        return pick(c, verbs, COUNT(verbs));
    case SIM_WORDS_PREP:
        return pick(c, preps, COUNT(preps));
    }
    return "";
}

int sim_compose_sentence(sim_composer *c, const char *subject, buf *text)
{
    const char *adj = sim_pick(c, SIM_WORDS_ADJECTIVE);
    if (!subject)
        subject = sim_pick(c, SIM_WORDS_NOUN);
    const char *verb = sim_pick(c, SIM_WORDS_VERB), *prep = sim_pick(c, SIM_WORDS_PREP);
    const char *adj2 = sim_pick(c, SIM_WORDS_ADJECTIVE), *noun = sim_pick(c, SIM_WORDS_NOUN);
    return buf_printf(text, " The %s %s %s %s the %s %s.", adj, subject, verb, prep, adj2, noun);
}

static bool is_stopword(const char *w)
{
    for (size_t i = 0; i < COUNT(stopwords); i++)
        if (strcmp(stopwords[i], w) == 0)
            return true;
    return false;
}

size_t sim_keywords(const char *text, char kw[][SIM_KEYWORD_MAX], size_t max)
{
    size_t n = 0, len = text ? strlen(text) : 0, pos = 0;
    while (pos < len && n < max) {
        while (pos < len && !is_word_byte((unsigned char)text[pos]))
            pos++;
        size_t start = pos;
        while (pos < len && is_word_byte((unsigned char)text[pos]))
            pos++;
        size_t wl = pos - start;
        if (wl < 3 || wl >= SIM_KEYWORD_MAX)
            continue;
        char word[SIM_KEYWORD_MAX];
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

uint64_t sim_mix(uint64_t h, uint64_t v)
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
        h = sim_mix(h, (uint64_t)msg->n_images);
    }
    for (size_t i = 0; i < in->u.vlm.n_frames; i++)
        h = sim_hash(h, in->u.vlm.frames[i].data, in->u.vlm.frames[i].nbytes);
    if (in->u.vlm.temperature > 0) {
        uint64_t bits;
        h = sim_mix(h, in->u.vlm.has_seed ? in->u.vlm.seed : 0);
        memcpy(&bits, &in->u.vlm.temperature, sizeof(bits));
        h = sim_mix(h, bits);
        memcpy(&bits, &in->u.vlm.top_p, sizeof(bits));
        h = sim_mix(h, bits);
    }
    return h;
}

static int compose_answer(const backend_model *m, const infer_input *in, size_t n_images, buf *text)
{
    sim_composer c = {.rng = answer_seed(m, in), .temperature = in->u.vlm.temperature};
    char kw[MAX_KEYWORDS][32];
    size_t n_kw = sim_keywords(last_user_text(in), kw, MAX_KEYWORDS);
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

/* Hands a piece of streamed text to the caller's delta hook, if any. */
static void emit(const infer_hooks *hooks, const char *text, size_t len)
{
    if (len > 0 && hooks && hooks->on_delta)
        hooks->on_delta(hooks->ctx, text, len);
}

int sim_release(const backend *b, const backend_model *m, const char *plan, size_t plan_len,
                const sim_release_opts *opts, const infer_hooks *hooks, infer_output *out,
                hdm_err *err)
{
    textstream gen;
    size_t pos = 0;
    int completion = 0, rc;
    const char *finish = "stop";

    textstream_init(&gen, opts->stop, opts->n_stop, 0);
    while (pos < plan_len) {
        if (completion >= opts->max_tokens) {
            finish = "length";
            break;
        }
        rc = sim_npu_run(b, m, 0, m->token_ms, hooks, err); /* one token, one device operation */
        if (rc < 0)
            goto out;
        size_t end = sim_token_end(plan, plan_len, pos);
        const char *delta;
        size_t delta_len;
        if (textstream_feed(&gen, plan + pos, end - pos, &delta, &delta_len) < 0) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory generating text");
            goto out;
        }
        emit(hooks, delta, delta_len);
        pos = end;
        completion++;
        if (gen.hit) {
            finish = "stop";
            break;
        }
    }
    const char *tail;
    size_t tail_len;
    (void)textstream_flush(&gen, &tail, &tail_len); /* cannot fail without REPLACE */
    emit(hooks, tail, tail_len);

    out->result = cJSON_CreateString(textstream_text(&gen));
    if (!out->result) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
        goto out;
    }
    out->completion_tokens = completion;
    out->finish_reason = finish;
    rc = 0;
out:
    textstream_free(&gen);
    return rc;
}

int sim_infer_vlm(const backend *b, backend_model *m, const infer_input *in,
                  const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    buf plan = {0};
    size_t n_images = 0;
    int rc;

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

    /* Prefill: each image through the vision encoder, then the prompt: one
     * device operation each (sim-npu.c). */
    for (size_t i = 0; i <= n_images; i++) {
        rc = sim_npu_run(b, m, 0, m->infer_ms, hooks, err);
        if (rc < 0)
            return rc;
    }
    if (compose_answer(m, in, n_images, &plan) < 0) {
        buf_free(&plan);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory generating text");
    }
    const sim_release_opts opts = {
        .stop = in->u.vlm.stop, .n_stop = in->u.vlm.n_stop, .max_tokens = in->u.vlm.max_tokens};
    rc = sim_release(b, m, (const char *)plan.data, plan.len, &opts, hooks, out, err);
    if (rc == 0)
        out->prompt_tokens = sim_vlm_prompt_tokens(in);
    buf_free(&plan);
    return rc;
}
