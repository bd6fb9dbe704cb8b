/*
 * rawjson.h - two questions about a request's JSON text that the parsed
 * cJSON tree cannot answer: the exact text of a top-level member's value
 * (a request_id is echoed as the client wrote it, e.g. 12345678901234567890
 * or 1.0, which a double would change), and whether a string holds an
 * escaped NUL (cJSON keeps strings NUL-terminated, so "a\u0000b" would
 * silently become "a").
 *
 * The text must already be valid JSON holding one object (cJSON parsed it):
 * these scanners track strings and nesting, nothing more.
 */
#ifndef HDM_MANAGER_RAWJSON_H
#define HDM_MANAGER_RAWJSON_H

#include <stdbool.h>
#include <stddef.h>

/* True when some string of json[0..len) contains the escape \u0000.  Cheap:
 * one memchr pass for backslashes, which base64 never contains. */
bool rawjson_has_nul_escape(const char *json, size_t len);

/*
 * Scans the top-level object json[0..len).  When `key` is a member name (as
 * written, without escapes), *val and *val_len get the text of its first
 * occurrence's value (no surrounding white space).  When a string holding
 * \u0000 is found, *nul_key and *nul_key_len get the name of the top-level member
 * it lies in (the name itself when the NUL is in a name).  Either output
 * pointer may be NULL; a missing answer leaves its outputs NULL/0.
 */
void rawjson_scan(const char *json, size_t len, const char *key, const char **val, size_t *val_len,
                  const char **nul_key, size_t *nul_key_len);

#endif
