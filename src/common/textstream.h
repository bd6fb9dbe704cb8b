/*
 * textstream.h - generated text, streamed safely: stop strings and whole
 * UTF-8 characters.
 *
 * A model produces text in pieces (tokens) that may cut a UTF-8 character
 * in two, or hold the start of a stop string whose end comes with the next
 * piece.  textstream_feed() takes a piece and hands back the part that is
 * safe to show now: it holds back a tail that might still become a stop
 * string, and a character whose last bytes have not come yet.  When a stop
 * string appears, the text is cut before it, `hit` is set, and everything
 * fed later is ignored; the stop string itself is never handed out.
 *
 * Used by every streaming producer: the backends (sim and HailoRT), the
 * manager's delta frames and hailo-vision's stop sequences.
 */
#ifndef HDM_COMMON_TEXTSTREAM_H
#define HDM_COMMON_TEXTSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* Flags of a textstream (zero: keep the whole text, hand out bytes as they are). */
#define TEXTSTREAM_DISCARD                                                                         \
    0x1u /* forget text once handed out (textstream_text()                                         \
          * then holds only what is held back) */
#define TEXTSTREAM_REPLACE                                                                         \
    0x2u /* hand out valid UTF-8 only: each ill-formed                                             \
          * sequence becomes U+FFFD, as Python's                                                   \
          * decode("utf-8", "replace") does */

/*
 * A zeroed struct is a stream without stop strings; set stops/n_stops (or
 * use textstream_init) before the first feed.
 */
typedef struct textstream {
    char *const *stops; /* borrowed; NULL and empty entries are ignored */
    size_t n_stops;
    unsigned flags; /* TEXTSTREAM_* */
    buf text;       /* the text (cut at a stop string), NUL-terminated once fed */
    size_t emitted; /* bytes of text already handed out */
    buf out;        /* the last piece handed out, with TEXTSTREAM_REPLACE */
    bool hit;       /* a stop string matched: the text is complete */
} textstream;

/* Zeroes t and sets its stop strings and flags. */
void textstream_init(textstream *t, char *const *stops, size_t n_stops, unsigned flags);

/*
 * Appends a piece and sets *out and *out_len to the text that can be shown now
 * (possibly empty; never NULL): everything not yet handed out except a tail
 * that may begin a stop string or ends inside a UTF-8 character.  When a
 * stop string appears (the one that ends first, as generation would have
 * stopped there, however the text was cut into pieces), the text is cut
 * before it and t->hit is set; after that pieces are ignored.  *out stays
 * valid until the next call on t.  Returns 0 or -HDM_E_NOMEM.
 */
int textstream_feed(textstream *t, const char *piece, size_t len, const char **out,
                    size_t *out_len);

/*
 * At the end of generation: the text held back and not handed out yet
 * (nothing after a stop string).  A character left incomplete is handed out
 * as it is, or as U+FFFD with TEXTSTREAM_REPLACE.  Returns 0 or -HDM_E_NOMEM.
 */
int textstream_flush(textstream *t, const char **out, size_t *out_len);

/* The text so far, NUL-terminated, never NULL (see TEXTSTREAM_DISCARD). */
const char *textstream_text(const textstream *t);

/* Frees the buffers and zeroes the state (stops and flags stay).  Accepts NULL. */
void textstream_free(textstream *t);

#endif
