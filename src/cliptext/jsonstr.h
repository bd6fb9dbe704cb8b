/*
 * jsonstr.h - decoding one JSON string literal, keeping U+0000 (cJSON's
 * strings end there).  Used by `hailo-clip --tokenize` and the tests that
 * read the HF reference corpus.
 */
#ifndef HDM_CLIPTEXT_JSONSTR_H
#define HDM_CLIPTEXT_JSONSTR_H

#include <stddef.h>

#include "common/buf.h"

/*
 * Decodes the JSON string literal that is the whole of line[0..len)
 * (blanks around it allowed) and appends its UTF-8 to out.  Strict RFC
 * 8259: unescaped control characters, unknown escapes and unpaired
 * surrogates are refused.  Bytes of the literal are copied as they are
 * (the tokenizer checks UTF-8).  Returns 0, or -1 with *why set to a
 * static sentence.
 */
int jsonstr_decode(const char *line, size_t len, buf *out, const char **why);

#endif
