/*
 * reqjson.h - parses a request frame's JSON text, the same tree cJSON gives,
 * without cJSON's byte-by-byte copy of long strings.
 *
 * A v1 request carries its tensors as base64 strings of hundreds of KB;
 * cJSON copies a string one byte at a time (about 20 instructions a byte),
 * which was two thirds of the manager's work on a v1 CLIP request.  Here
 * each long string value without escapes is cut out of the text before
 * cJSON parses it and copied into the tree afterwards with memcpy.
 */
#ifndef HDM_MANAGER_REQJSON_H
#define HDM_MANAGER_REQJSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* String values at least this long (bytes between the quotes) are cut out. */
#define REQJSON_LONG_STRING 4096

/*
 * As cJSON_ParseWithLengthOpts(json, len, end, false): the parsed value, or
 * NULL when the text is not JSON (then cJSON_GetErrorPtr() points into
 * `json`, as cJSON's own parse would set it).  *end (may be NULL) is set
 * just past the value within `json`.  The caller frees the tree with
 * cJSON_Delete.
 */
cJSON *reqjson_parse(const char *json, size_t len, const char **end);

#endif
