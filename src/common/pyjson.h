/*
 * pyjson.h - JSON as Python writes it: float repr and json.dumps styles.
 *
 * The original services are Python, and their clients read our replies with
 * Python's json module: a float written as `0` comes back as an int, and
 * scripts that grep raw bytes expect json.dumps' separators.  cJSON stays the
 * one JSON library: trees are built with cJSON, float fields are added with
 * pyjson_float()/pyjson_add_float() (raw items holding Python's repr), and a
 * tree is printed either by cJSON (float fields keep their `.0`) or by
 * pyjson_print() in one of Python's styles.
 */
#ifndef HDM_COMMON_PYJSON_H
#define HDM_COMMON_PYJSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Room for any pyfloat_repr() result, NUL included ("-2.2250738585072014e-308"). */
#define PYFLOAT_REPR_MAX 32

/*
 * Writes Python's repr(float(v)) into dst (len bytes, at least
 * PYFLOAT_REPR_MAX for any value): the shortest digits that read back as v,
 * fixed notation when the decimal exponent is in [-4, 16) ("0.0", "3.0",
 * "0.0001", "1234.5"), exponent form otherwise ("1e-05", "1e+16",
 * "1.2345678901234568e+17").  NaN and the infinities are written as
 * json.dumps writes them: "NaN", "Infinity", "-Infinity".
 * Returns the length written (without the NUL), or -1 when len is too small
 * (dst then holds an empty string when len > 0).
 */
int pyfloat_repr(double v, char *dst, size_t len);

/*
 * A new cJSON item (a raw item) that prints as pyfloat_repr(v), by cJSON's
 * printers and by pyjson_print() alike.  Its valuedouble is v too, but
 * cJSON_IsNumber() is false for it: read floats back from the tree you
 * parsed, not from one you built.  Returns NULL when out of memory; the
 * caller owns the item (or the tree it is added to).
 */
cJSON *pyjson_float(double v);

/*
 * Adds pyjson_float(v) to object obj under name.  Returns the item (owned by
 * obj), or NULL when out of memory (obj is unchanged then).
 */
cJSON *pyjson_add_float(cJSON *obj, const char *name, double v);

/*
 * A new cJSON item (a raw item) that prints the decimal digits of v ("0",
 * "314572800"): the bytes cJSON prints for an integral number below 10^15,
 * without cJSON's printf and sscanf round trip for every number (the
 * manager's status answers are mostly counters).  Its valuedouble is v and
 * its valueint v up to INT_MAX, as cJSON_CreateNumber() sets them;
 * cJSON_IsNumber() is false for it, as for pyjson_float().  Returns NULL
 * when out of memory; the caller owns the item.
 */
cJSON *pyjson_uint(uint64_t v);
/*
 * Adds pyjson_uint(v) to object obj under name.  Returns the item (owned by
 * obj), or NULL when out of memory (obj is unchanged then).
 */
cJSON *pyjson_add_uint(cJSON *obj, const char *name, uint64_t v);

/* How pyjson_print() writes a tree. */
enum pyjson_style {
    /* json.dumps(obj) (aiohttp's json_response): ", " and ": " separators,
     * keys in insertion order, everything outside printable ASCII as \uXXXX
     * (surrogate pairs past U+FFFF). */
    PYJSON_DUMPS = 0,
    /* json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
     * (FastAPI/Starlette): no spaces, insertion order, text as UTF-8 with
     * only controls, '"' and '\' escaped. */
    PYJSON_COMPACT = 1,
    /* Flask's jsonify: compact separators, keys sorted by code point,
     * ensure_ascii, and a trailing newline. */
    PYJSON_FLASK = 2,
};

/*
 * Prints item (any cJSON value: object, array, string, number, bool, null,
 * raw) in the given style.  Numbers print as Python does: integral values as
 * an int ("3"), others as pyfloat_repr ("0.5"); raw items (pyjson_float)
 * print verbatim.  A string that is not valid UTF-8 never reaches the output
 * raw: each maximal ill-formed subsequence becomes U+FFFD, as Python's
 * bytes.decode("utf-8", "replace") does.  Returns a malloc'd NUL-terminated
 * string (free() it), or NULL when out of memory or item is NULL.
 */
char *pyjson_print(const cJSON *item, enum pyjson_style style);

#endif
