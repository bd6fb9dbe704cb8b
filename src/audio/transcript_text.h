/*
 * transcript_text.h - the text helpers transcript.c and transcript_format.c
 * share: Python's str.strip() and U+FFFD for ill-formed UTF-8.  Internal to
 * src/audio.
 */
#ifndef HDM_AUDIO_TRANSCRIPT_TEXT_H
#define HDM_AUDIO_TRANSCRIPT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transcript.h"

/* True for the code points Python's str.isspace() accepts. */
bool transcript_py_space(uint32_t cp);

/* Appends s[0..len) with each maximal ill-formed UTF-8 subsequence replaced
 * by U+FFFD (Python's decode "replace").  Returns 0 or -HDM_E_NOMEM. */
int transcript_append_clean(buf *out, const char *s, size_t len);

/* [*start, *end): valid UTF-8 s[0..len) without Python's leading and
 * trailing whitespace (str.strip()). */
void transcript_py_strip(const char *s, size_t len, size_t *start, size_t *end);

#endif
