/*
 * jsonstr.c - one JSON string literal per line, decoded with its length
 * (cJSON ends strings at U+0000; the tokenizer tools need it kept).
 */
#include "cliptext/jsonstr.h"

#include "cliptext/unicode.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex4(const char *s, size_t left, uint32_t *out)
{
    uint32_t v = 0;
    if (left < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (uint32_t)h;
    }
    *out = v;
    return 0;
}

static void put_utf8(buf *b, uint32_t cp, int *r)
{
    uint8_t u[4];
    size_t n = uc_encode(cp, u);
    if (*r == 0)
        *r = buf_append(b, u, n);
}

int jsonstr_decode(const char *line, size_t len, buf *b, const char **why)
{
    size_t i = 0;
    int r = 0;
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
        len--;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= len || line[i] != '"') {
        *why = "not a JSON string (it must start with a double quote)";
        return -1;
    }
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '"') {
            if (i + 1 != len) {
                *why = "text after the closing quote";
                return -1;
            }
            return r == 0 ? 0 : (*why = "out of memory", -1);
        }
        if (c < 0x20) {
            *why = "a control character inside the string must be escaped";
            return -1;
        }
        if (c != '\\') {
            if (r == 0)
                r = buf_append(b, &line[i], 1);
            continue;
        }
        if (++i >= len)
            break;
        uint32_t cp, lo;
        switch (line[i]) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (hex4(line + i + 1, len - i - 1, &cp) < 0) {
                *why = "\\u needs four hex digits";
                return -1;
            }
            i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                *why = "a lone low surrogate is not text";
                return -1;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (i + 2 >= len || line[i + 1] != '\\' || line[i + 2] != 'u' ||
                    hex4(line + i + 3, len - i - 3, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
                    *why = "a high surrogate must be followed by a low one";
                    return -1;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            break;
        default:
            *why = "unknown escape";
            return -1;
        }
        put_utf8(b, cp, &r);
    }
    *why = "the string is not closed";
    return -1;
}

