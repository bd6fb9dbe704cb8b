/*
 * hailort-prompt.h - what a vlm_chat request becomes for HailoRT's GenAI VLM:
 * the structured messages it takes, and stop strings applied to the tokens
 * it streams back.
 *
 * DESIGN: pure C (cJSON, no HailoRT header) so that it is unit-tested on
 * every machine.  HailoRT renders the model's own chat template from JSON
 * messages {"role", "content": [{"type":"image"}, {"type":"text","text"}]};
 * each {"type":"image"} consumes the next input frame, so the number of
 * image entries must equal the number of frames.  Stop strings are matched
 * on the generated text, not on tokens: a token may hold a stop string's
 * start and the next its end, so text that might begin a stop string is
 * held back from the stream until it is known not to.  Special tokens: the
 * chip's GenAI server decodes every token without skipping special ones,
 * so markup like "<|im_end|>" would reach the answer; each piece is cleaned
 * of the model's special tokens before anything else sees it.
 */
#ifndef HDM_BACKENDS_HAILORT_PROMPT_H
#define HDM_BACKENDS_HAILORT_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/textstream.h"
#include "backend.h"

/*
 * Builds the JSON message strings for in->u.vlm into *out (an array of
 * *n_out malloc'd strings; free with hrt_strv_free).  A plain prompt becomes
 * one user message whose images (one per frame) come before its text; chat
 * messages keep their role and put their images before their text.  Fails
 * with -HDM_E_BAD_REQUEST when the images named do not match the frames
 * given, or when there is nothing to say.
 */
int hrt_vlm_messages(const infer_input *in, char ***out, size_t *n_out, hdm_err *err);

/*
 * The same for in->u.llm, HailoRT LLM's structured messages: each message
 * {"role", "content"} (a string), an assistant's tool calls as
 * "tool_calls": [{"type": "function", "function": {"name", "arguments"}}]
 * (what chat templates read), a tool's answer with "name".  *tools gets the
 * tools as JSON strings (*n_tools of them, NULL when none).  A raw prompt
 * (no messages) gives no message: the caller writes it as is.  Returns 0,
 * -HDM_E_BAD_REQUEST or -HDM_E_NOMEM; free both with hrt_strv_free.
 */
int hrt_llm_messages(const infer_input *in, char ***out, size_t *n_out, char ***tools,
                     size_t *n_tools, hdm_err *err);

/* The text of an llm request (message contents joined by "\n", or the raw
 * prompt), malloc'd; NULL when out of memory. */
char *hrt_llm_prompt_text(const infer_input *in);

/* Frees an array from hrt_vlm_messages.  Accepts NULL. */
void hrt_strv_free(char **v, size_t n);

/*
 * The prompt's text alone (message texts joined by "\n", or the prompt),
 * malloc'd; NULL when out of memory.  Used to count prompt tokens with the
 * model's tokenizer when the device cannot report its context usage.
 */
char *hrt_vlm_prompt_text(const infer_input *in);

/* Stop-string matching over streamed text (common/textstream, keeping the
 * whole text).  Zero it, then set stops and n_stops; `hit` is set when a
 * stop string was found and generation should end. */
typedef textstream hrt_stop;

/*
 * Appends a generated piece.  *delta / *delta_len get the text that can be
 * streamed now (possibly empty): everything new except a tail that may start
 * a stop string or ends inside a UTF-8 character.  When a stop string
 * appears, the text is cut before it and s->hit is set.  Returns 0 or
 * -HDM_E_NOMEM.  *delta points into s->text and is valid until the next call.
 */
int hrt_stop_feed(hrt_stop *s, const char *piece, size_t len, const char **delta,
                  size_t *delta_len);

/* At the end of generation: the text not streamed yet (held back tail). */
void hrt_stop_flush(hrt_stop *s, const char **delta, size_t *delta_len);

/* The whole text so far, NUL-terminated (never NULL). */
const char *hrt_stop_text(const hrt_stop *s);

void hrt_stop_free(hrt_stop *s);

/* ---- special tokens ------------------------------------------------------------ */

/* The special tokens of a GenAI model.  A zeroed struct is an empty set. */
typedef struct hrt_specials {
    char **items;
    size_t n;
} hrt_specials;

/*
 * Adds the special tokens found in text, a string the model reported (a
 * stop token, its generation recovery sequence): every "<...>" in it
 * without blanks inside ("<|im_end|>", "</s>", "<end_of_turn>"); ordinary
 * text (a stop string like "\n\n") is never taken.  Known ones are skipped.
 * Returns 0 or -HDM_E_NOMEM.
 */
int hrt_specials_add(hrt_specials *s, const char *text);

/* Adds the markup tokens of the common chat templates (ChatML, Llama 3,
 * Qwen-VL, Phi): never part of an answer.  Returns 0 or -HDM_E_NOMEM. */
int hrt_specials_add_defaults(hrt_specials *s);

/* Copies piece (len bytes) without any special token into out (room for
 * len bytes); returns the bytes written. */
size_t hrt_specials_strip(const hrt_specials *s, const char *piece, size_t len, char *out);

/* Frees the set and zeroes it.  Accepts NULL. */
void hrt_specials_free(hrt_specials *s);

#endif
