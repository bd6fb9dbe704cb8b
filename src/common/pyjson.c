/*
 * pyjson.c - JSON as Python writes it: float repr and json.dumps styles.
 *
 * DESIGN: repr(float) is the shortest decimal that reads back as the same
 * double (David Gay's dtoa, mode 0).  glibc's printf and strtod round
 * correctly, so the shortest length is found by asking printf for p
 * significant digits and strtod whether they read back.  "Some p-digit
 * decimal reads back" is monotone in p (p-digit decimals are (p+1)-digit
 * decimals too), so p is found by bisection over 1..17 (17 always works).
 * The decimal printf gives is the nearest one; next to a power of two the
 * interval of doubles that read back is lopsided and the nearest p-digit
 * decimal can fall out of it while its neighbour on the wide side is in,
 * so the two neighbours are tried as well.  The digits are then laid out as
 * Python's float_repr does (exponent form below 1e-4 and from 1e16 on).
 *
 * The printer walks a cJSON tree itself because cJSON's own printers know
 * neither Python's separators nor its escaping (ensure_ascii).
 */
#include "common/pyjson.h"

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/utf8.h"

/* A decimal m * 10^e10 with exactly p significant digits in m. */
struct decimal {
    uint64_t m;
    int e10;
    int p;
};

static const uint64_t pow10_u64[18] = {
    1ull,
    10ull,
    100ull,
    1000ull,
    10000ull,
    100000ull,
    1000000ull,
    10000000ull,
    100000000ull,
    1000000000ull,
    10000000000ull,
    100000000000ull,
    1000000000000ull,
    10000000000000ull,
    100000000000000ull,
    1000000000000000ull,
    10000000000000000ull,
    100000000000000000ull,
};

static bool reads_back(const struct decimal *d, double a)
{
    char tmp[48];
    snprintf(tmp, sizeof(tmp), "%" PRIu64 "e%d", d->m, d->e10);
    return strtod(tmp, NULL) == a;
}

/* The p-digit decimal nearest to a (> 0, finite), as printf rounds it. */
static struct decimal nearest(double a, int p)
{
    char tmp[48];
    struct decimal d = {0, 0, p};
    snprintf(tmp, sizeof(tmp), "%.*e", p - 1, a);
    const char *s = tmp;
    for (; *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            d.m = d.m * 10 + (uint64_t)(*s - '0');
    d.e10 = atoi(s + 1) - (p - 1);
    return d;
}

/* m +- 1 in the last digit, keeping p digits. */
static struct decimal step(struct decimal d, int dir)
{
    if (dir > 0) {
        d.m++;
        if (d.m == pow10_u64[d.p]) {
            d.m = pow10_u64[d.p - 1];
            d.e10++;
        }
    } else {
        if (d.m == pow10_u64[d.p - 1]) {
            d.m = pow10_u64[d.p] - 1;
            d.e10--;
        } else {
            d.m--;
        }
    }
    return d;
}

/* The p-digit decimal that reads back as a, nearest first; false if none. */
static bool shortest_at(double a, int p, struct decimal *out)
{
    struct decimal d = nearest(a, p);
    if (reads_back(&d, a)) {
        *out = d;
        return true;
    }
    /* Only one side can hold the interval when the nearest is outside it. */
    struct decimal up = step(d, +1), down = step(d, -1);
    if (reads_back(&up, a)) {
        *out = up;
        return true;
    }
    if (reads_back(&down, a)) {
        *out = down;
        return true;
    }
    return false;
}

/*
 * The nearest p-digit decimal to a, from its nearest 17-digit one: rounding
 * those 17 digits gives the same answer unless they sit exactly on a
 * p-digit midpoint (then a itself may lie on either side), which printf
 * settles.  Saves a printf per try.
 */
static struct decimal round_to(struct decimal d17, int p, double a)
{
    uint64_t unit = pow10_u64[17 - p], rest = d17.m % unit, half = unit / 2;
    if (rest == half)
        return nearest(a, p);
    struct decimal d = {d17.m / unit + (rest > half), d17.e10 + 17 - p, p};
    if (d.m == pow10_u64[p]) {
        d.m = pow10_u64[p - 1];
        d.e10++;
    }
    return d;
}

/*
 * The shortest decimal that reads back as a (> 0, finite), nearest first.
 * For a normal double the interval of decimals that read back is narrower
 * than the spacing of 15-digit decimals, so it holds at most one of them:
 * if the nearest 15-digit decimal (or, next to a power of two, a
 * neighbour) reads back, it is the answer once its trailing zeros go, and
 * if none does, nothing shorter can.  The same holds for 16 digits given
 * 15 failed; 17 always works.  One printf and two reads at most, where a
 * search over 1..17 takes five rounds.  Subnormals (wide intervals) search.
 */
static struct decimal shortest(double a)
{
    struct decimal d;
    if (a < DBL_MIN) {
        struct decimal best = nearest(a, 17);
        int lo = 1, hi = 17; /* hi always works */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (shortest_at(a, mid, &d)) {
                best = d;
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return best;
    }
    int exp2;
    bool pow2 = frexp(a, &exp2) == 0.5;
    struct decimal d17 = nearest(a, 17);
    for (int p = 15; p <= 16; p++) {
        d = round_to(d17, p, a);
        if (reads_back(&d, a))
            return d;
        /* Only below a power of two is the interval lopsided. */
        if (pow2 && shortest_at(a, p, &d))
            return d;
    }
    return d17;
}

int pyfloat_repr(double v, char *dst, size_t len)
{
    char out[PYFLOAT_REPR_MAX];
    int n;

    if (isnan(v)) {
        n = snprintf(out, sizeof(out), "NaN");
    } else if (isinf(v)) {
        n = snprintf(out, sizeof(out), "%s", v < 0 ? "-Infinity" : "Infinity");
    } else if (v == 0) {
        n = snprintf(out, sizeof(out), "%s", signbit(v) ? "-0.0" : "0.0");
    } else {
        struct decimal best;
        /* A value that is the double nearest to a decimal of at most three
         * places (a time in ms, a count, a tenth) is that decimal: n / 1000.0
         * is correctly rounded, so n/1000 reads back as v, and below 10^12
         * v's ulp is under 10^-3, so no other decimal of as few digits reads
         * back as v.  This skips the search for most of what we print. */
        double thousandths = nearbyint(fabs(v) * 1000.0);
        if (fabs(v) < 1e12 && thousandths / 1000.0 == fabs(v))
            best = (struct decimal){.m = (uint64_t)thousandths, .e10 = -3};
        else
            best = shortest(fabs(v));
        /* Significant digits without trailing zeros. */
        char digits[20];
        int nd = snprintf(digits, sizeof(digits), "%" PRIu64, best.m);
        int exp10 = best.e10 + nd - 1; /* v = d.ddd * 10^exp10 */
        while (nd > 1 && digits[nd - 1] == '0')
            nd--;
        digits[nd] = '\0';

        char *o = out;
        if (v < 0)
            *o++ = '-';
        if (exp10 < -4 || exp10 >= 16) {
            *o++ = digits[0];
            if (nd > 1) {
                *o++ = '.';
                memcpy(o, digits + 1, (size_t)nd - 1);
                o += nd - 1;
            }
            o += sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        } else if (exp10 < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -exp10 - 1; i++)
                *o++ = '0';
            memcpy(o, digits, (size_t)nd);
            o += nd;
        } else {
            for (int i = 0; i <= exp10; i++)
                *o++ = i < nd ? digits[i] : '0';
            *o++ = '.';
            if (nd > exp10 + 1) {
                memcpy(o, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
                o += nd - exp10 - 1;
            } else {
                *o++ = '0';
            }
        }
        *o = '\0';
        n = (int)(o - out);
    }

    if (len == 0)
        return -1;
    if ((size_t)n >= len) {
        dst[0] = '\0';
        return -1;
    }
    memcpy(dst, out, (size_t)n + 1);
    return n;
}

cJSON *pyjson_float(double v)
{
    char text[PYFLOAT_REPR_MAX];
    pyfloat_repr(v, text, sizeof(text));
    cJSON *item = cJSON_CreateRaw(text);
    if (item != NULL)
        item->valuedouble = v;
    return item;
}

cJSON *pyjson_uint(uint64_t v)
{
    char text[24], *p = text + sizeof(text);
    uint64_t rest = v;
    *--p = '\0';
    do {
        *--p = (char)('0' + rest % 10);
        rest /= 10;
    } while (rest);
    cJSON *item = cJSON_CreateRaw(p);
    if (item != NULL) { /* as cJSON_CreateNumber() leaves them */
        item->valuedouble = (double)v;
        item->valueint = v > INT_MAX ? INT_MAX : (int)v;
    }
    return item;
}

cJSON *pyjson_add_uint(cJSON *obj, const char *name, uint64_t v)
{
    cJSON *item = pyjson_uint(v);
    if (item == NULL)
        return NULL;
    if (!cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        return NULL;
    }
    return item;
}

cJSON *pyjson_add_float(cJSON *obj, const char *name, double v)
{
    cJSON *item = pyjson_float(v);
    if (item == NULL)
        return NULL;
    if (!cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        return NULL;
    }
    return item;
}

/* ---- printing ------------------------------------------------------------ */

struct printer {
    buf out;
    bool ascii; /* ensure_ascii */
    bool sort_keys;
    const char *item_sep;
    const char *key_sep;
    int err;
};

static void put(struct printer *p, const void *s, size_t n)
{
    if (p->err == 0)
        p->err = buf_append(&p->out, s, n);
}

static void puts_(struct printer *p, const char *s)
{
    put(p, s, strlen(s));
}

static void put_u(struct printer *p, uint32_t unit)
{
    char tmp[16];
    snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)unit);
    put(p, tmp, 6);
}

static void put_string(struct printer *p, const char *str)
{
    const uint8_t *s = (const uint8_t *)(str != NULL ? str : "");
    size_t len = strlen((const char *)s);
    size_t i = 0;

    put(p, "\"", 1);
    while (i < len) {
        /* Runs of bytes that need no escape go out in one piece. */
        size_t run = i;
        while (run < len && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            put(p, s + i, run - i);
            i = run;
            continue;
        }
        uint8_t c = s[i];
        const char *short_esc = NULL;
        switch (c) {
        case '"':
            short_esc = "\\\"";
            break;
        case '\\':
            short_esc = "\\\\";
            break;
        case '\b':
            short_esc = "\\b";
            break;
        case '\f':
            short_esc = "\\f";
            break;
        case '\n':
            short_esc = "\\n";
            break;
        case '\r':
            short_esc = "\\r";
            break;
        case '\t':
            short_esc = "\\t";
            break;
        default:
            break;
        }
        if (short_esc != NULL) {
            put(p, short_esc, 2);
            i++;
            continue;
        }
        if (c < 0x20) {
            put_u(p, c);
            i++;
            continue;
        }
        if (c == 0x7f) {
            if (p->ascii)
                put_u(p, c);
            else
                put(p, s + i, 1);
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            n = utf8_bad_len(s + i, len - i);
            cp = 0xFFFD;
            if (!p->ascii) {
                put(p, "\xef\xbf\xbd", 3);
                i += n;
                continue;
            }
        } else if (!p->ascii) {
            put(p, s + i, n);
            i += n;
            continue;
        }
        if (cp > 0xFFFF) {
            cp -= 0x10000;
            put_u(p, 0xD800 + (cp >> 10));
            put_u(p, 0xDC00 + (cp & 0x3FF));
        } else {
            put_u(p, cp);
        }
        i += n;
    }
    put(p, "\"", 1);
}

static void put_number(struct printer *p, double v)
{
    char tmp[PYFLOAT_REPR_MAX];
    /* An integral value is an int in the Python the field came from. */
    if (isfinite(v) && v == floor(v) && fabs(v) < 9223372036854775808.0) {
        snprintf(tmp, sizeof(tmp), "%" PRId64, (int64_t)v);
    } else {
        pyfloat_repr(v, tmp, sizeof(tmp));
    }
    puts_(p, tmp);
}

static int cmp_keys(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    /* Byte order of UTF-8 is code point order, as Python sorts str. */
    return strcmp(x->string != NULL ? x->string : "", y->string != NULL ? y->string : "");
}

static void put_value(struct printer *p, const cJSON *item);

static void put_object(struct printer *p, const cJSON *obj)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c != NULL; c = c->next)
        n++;
    const cJSON **order = NULL;
    if (p->sort_keys && n > 1) {
        order = malloc(n * sizeof(*order));
        if (order == NULL) {
            p->err = -HDM_E_NOMEM;
            return;
        }
        size_t i = 0;
        for (const cJSON *c = obj->child; c != NULL; c = c->next)
            order[i++] = c;
        qsort(order, n, sizeof(*order), cmp_keys);
    }
    put(p, "{", 1);
    const cJSON *c = obj->child;
    for (size_t i = 0; i < n; i++) {
        const cJSON *member = order != NULL ? order[i] : c;
        if (i > 0)
            puts_(p, p->item_sep);
        put_string(p, member->string);
        puts_(p, p->key_sep);
        put_value(p, member);
        if (c != NULL)
            c = c->next;
    }
    put(p, "}", 1);
    free(order);
}

static void put_value(struct printer *p, const cJSON *item)
{
    if (p->err != 0)
        return;
    if (cJSON_IsObject(item)) {
        put_object(p, item);
    } else if (cJSON_IsArray(item)) {
        put(p, "[", 1);
        for (const cJSON *c = item->child; c != NULL; c = c->next) {
            if (c != item->child)
                puts_(p, p->item_sep);
            put_value(p, c);
        }
        put(p, "]", 1);
    } else if (cJSON_IsString(item)) {
        put_string(p, item->valuestring);
    } else if (cJSON_IsNumber(item)) {
        put_number(p, item->valuedouble);
    } else if (cJSON_IsRaw(item)) {
        puts_(p, item->valuestring != NULL ? item->valuestring : "null");
    } else if (cJSON_IsTrue(item)) {
        puts_(p, "true");
    } else if (cJSON_IsFalse(item)) {
        puts_(p, "false");
    } else {
        puts_(p, "null");
    }
}

char *pyjson_print(const cJSON *item, enum pyjson_style style)
{
    if (item == NULL)
        return NULL;
    struct printer p = {
        .ascii = style != PYJSON_COMPACT,
        .sort_keys = style == PYJSON_FLASK,
        .item_sep = style == PYJSON_DUMPS ? ", " : ",",
        .key_sep = style == PYJSON_DUMPS ? ": " : ":",
    };
    put_value(&p, item);
    if (style == PYJSON_FLASK)
        put(&p, "\n", 1);
    put(&p, "", 1); /* the NUL */
    if (p.err != 0) {
        buf_free(&p.out);
        return NULL;
    }
    return (char *)p.out.data;
}
