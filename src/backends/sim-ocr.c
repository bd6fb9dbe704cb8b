/*
 * sim-ocr.c - the simulated PaddleOCR detection and recognition networks
 * (sim-ocr.h).
 *
 * DESIGN: no learning, just enough image analysis that the real
 * post-processing (src/ocrpost) finds text where a page has it and reads
 * stable strings from it, so OCR can be shown and tested end to end on the
 * simulator.  Detection: ink is a pixel clearly darker than the brightest
 * paper around it (the maximum over 3 x 3 tiles of 8 x 8 pixels); ink
 * closed horizontally across letter gaps and vertically across holes, then
 * across word gaps up to about 1.5 times the text's height (so words join
 * but the columns of a page stay apart), is a text line (an 8-connected
 * component); its kernel is the rectangle along its principal axis that
 * holds all its pixels, shrunk on every side by a quarter of its thickness,
 * about the "shrunk kernel" a DB network predicts (DB's unclip grows it
 * back to the text box); a 3 x 3
 * mean softens the edges as a sigmoid output would be soft.  Recognition:
 * ink columns of the crop are glyphs (a run much wider than the text height
 * is several touching glyphs); each glyph's 3 x 4 ink pattern and width
 * pick one of 62 letters and digits; the glyphs are laid out left to right
 * over the 40 CTC steps with blanks between equal neighbours, so greedy CTC
 * decoding returns exactly one character per glyph.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "sim-ocr.h"

#define TILE 8             /* paper estimate: max over 3 x 3 tiles of TILE px */
#define MIN_PAPER 100      /* darker "paper" is no background for dark text */
#define MIN_CONTRAST 56    /* ink is this much darker than the paper, */
#define CONTRAST_PCT 35    /* and at least this % of the paper's brightness */
#define LETTER_GAP 4       /* letter gaps closed along a row (px) */
#define HOLE_GAP 2         /* gaps closed down a column (px) */
#define WORD_GAP_PCT 150   /* then word gaps up to this % of the text height */
#define WORD_GAP_MAX 48    /* (px), so columns of a page stay apart */
#define WORD_SIDE 8        /* text height: tallest column within this of a gap */
#define KERNEL_TRIM_PCT 25 /* of a line's thickness, cut from its sides */
#define P_TEXT 0.95f
#define P_MARGIN 0.15f
#define P_BACKGROUND 0.02f

static inline bool is_pad(const uint8_t *px)
{
    return px[0] == 128 && px[1] == 128 && px[2] == 128;
}

static inline uint8_t luminance(const uint8_t *px)
{
    return (uint8_t)((77 * px[0] + 150 * px[1] + 29 * px[2]) >> 8);
}

static inline bool is_ink(int lum, int paper)
{
    int need = paper * CONTRAST_PCT / 100;
    return paper >= MIN_PAPER && paper - lum > (need > MIN_CONTRAST ? need : MIN_CONTRAST);
}

/* Fills gaps of at most `gap` zeros between set cells of n cells at stride. */
static void close_gaps(uint8_t *cells, size_t n, size_t stride, int gap)
{
    size_t last = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!cells[i * stride])
            continue;
        if (last != SIZE_MAX && i - last > 1 && i - last - 1 <= (size_t)gap)
            for (size_t k = last + 1; k < i; k++)
                cells[k * stride] = 1;
        last = i;
    }
}

/* The ink mask of the detection input: 1 where a pixel is text ink. */
static int ink_mask(const uint8_t *rgb, int h, int w, uint8_t *ink)
{
    const int th = (h + TILE - 1) / TILE, tw = (w + TILE - 1) / TILE;
    uint8_t *tmax = calloc((size_t)th * (size_t)tw, 1);
    uint8_t *paper = calloc((size_t)th * (size_t)tw, 1);
    if (tmax == NULL || paper == NULL) {
        free(tmax);
        free(paper);
        return -1;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *px = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            uint8_t *t = &tmax[(size_t)(y / TILE) * (size_t)tw + (size_t)(x / TILE)];
            uint8_t l = luminance(px);
            if (!is_pad(px) && l > *t)
                *t = l;
        }
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            uint8_t m = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = ty + dy, xx = tx + dx;
                    if (yy >= 0 && yy < th && xx >= 0 && xx < tw) {
                        uint8_t v = tmax[(size_t)yy * (size_t)tw + (size_t)xx];
                        m = v > m ? v : m;
                    }
                }
            paper[(size_t)ty * (size_t)tw + (size_t)tx] = m;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *px = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            int p = paper[(size_t)(y / TILE) * (size_t)tw + (size_t)(x / TILE)];
            ink[(size_t)y * (size_t)w + (size_t)x] = !is_pad(px) && is_ink(luminance(px), p);
        }
    free(tmax);
    free(paper);
    return 0;
}

/* Height of the run of set cells through each set cell of every column. */
static void column_runs(const uint8_t *line, int h, int w, uint16_t *height)
{
    for (int x = 0; x < w; x++) {
        int y = 0;
        while (y < h) {
            if (!line[(size_t)y * (size_t)w + (size_t)x]) {
                height[(size_t)y * (size_t)w + (size_t)x] = 0;
                y++;
                continue;
            }
            int y0 = y;
            while (y < h && line[(size_t)y * (size_t)w + (size_t)x])
                y++;
            uint16_t len = (uint16_t)(y - y0 > 65535 ? 65535 : y - y0);
            for (int k = y0; k < y; k++)
                height[(size_t)k * (size_t)w + (size_t)x] = len;
        }
    }
}

/* The tallest column run among row[a..b] (clamped to the row). */
static int tallest(const uint16_t *height, int w, int a, int b)
{
    int m = 0;
    for (int x = a < 0 ? 0 : a; x <= b && x < w; x++)
        m = height[x] > m ? height[x] : m;
    return m;
}

/* Closes a row's gaps that are short next to the text height on either
 * side (the tallest column run within WORD_SIDE px: the edge of a word is
 * often a short stroke, the letters just before it are not). */
static void close_word_gaps(uint8_t *row, const uint16_t *height, int w)
{
    int last = -1;
    for (int x = 0; x < w; x++) {
        if (!row[x])
            continue;
        if (last >= 0 && x - last > 1) {
            int gap = x - last - 1;
            int hl = tallest(height, w, last - WORD_SIDE, last);
            int hr = tallest(height, w, x, x + WORD_SIDE);
            int limit = (hl > hr ? hl : hr) * WORD_GAP_PCT / 100;
            if (gap <= (limit < WORD_GAP_MAX ? limit : WORD_GAP_MAX))
                memset(row + last + 1, 1, (size_t)gap);
        }
        last = x;
    }
}

/*
 * Flood-fills the component of `words` at seed (8-connected), clearing it,
 * and paints its kernel into raw: the rectangle along the component's
 * principal axis that holds all its pixels (ascenders, descenders, word
 * gaps: the text box; slanted text stays slanted), shrunk on every side by
 * KERNEL_TRIM_PCT of its thickness as text, the rest of it as margin.
 * `stack` has room for every pixel of the image.
 */
static void paint_line(uint8_t *words, int h, int w, size_t seed, uint32_t *stack, float *raw)
{
    size_t n_stack = 0, n_done = 0;
    int bx0 = w, bx1 = -1, by0 = h, by1 = -1;
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    stack[n_stack++] = (uint32_t)seed;
    words[seed] = 0;
    /* The stack doubles as the pixel list: entries below n_done are done. */
    while (n_done < n_stack) {
        size_t i = stack[n_done++];
        int y = (int)(i / (size_t)w), x = (int)(i % (size_t)w);
        bx0 = x < bx0 ? x : bx0;
        bx1 = x > bx1 ? x : bx1;
        by0 = y < by0 ? y : by0;
        by1 = y > by1 ? y : by1;
        sx += x, sy += y, sxx += (double)x * x, syy += (double)y * y, sxy += (double)x * y;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int yy = y + dy, xx = x + dx;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w)
                    continue;
                size_t j = (size_t)yy * (size_t)w + (size_t)xx;
                if (words[j]) {
                    words[j] = 0;
                    stack[n_stack++] = (uint32_t)j;
                }
            }
    }
    const double n = (double)n_stack, mx = sx / n, my = sy / n;
    const double cxx = sxx / n - mx * mx, cyy = syy / n - my * my, cxy = sxy / n - mx * my;
    const double angle = 0.5 * atan2(2.0 * cxy, cxx - cyy);
    const double ux = cos(angle), uy = sin(angle); /* along the line */
    double a0 = 1e30, a1 = -1e30, b0 = 1e30, b1 = -1e30;
    for (size_t k = 0; k < n_stack; k++) {
        double x = (double)(stack[k] % (size_t)w) - mx, y = (double)(stack[k] / (size_t)w) - my;
        double a = x * ux + y * uy, b = -x * uy + y * ux;
        a0 = a < a0 ? a : a0, a1 = a > a1 ? a : a1;
        b0 = b < b0 ? b : b0, b1 = b > b1 ? b : b1;
    }
    /* Pixel centres: the rectangle reaches half a pixel beyond them. */
    a0 -= 0.5, a1 += 0.5, b0 -= 0.5, b1 += 0.5;
    const double shrink = (b1 - b0) * KERNEL_TRIM_PCT / 100.0;
    for (int y = by0; y <= by1; y++)
        for (int x = bx0; x <= bx1; x++) {
            double px = x - mx, py = y - my;
            double a = px * ux + py * uy, b = -px * uy + py * ux;
            if (a < a0 || a > a1 || b < b0 || b > b1)
                continue;
            bool core =
                a >= a0 + shrink && a <= a1 - shrink && b >= b0 + shrink && b <= b1 - shrink;
            float v = core ? P_TEXT : P_MARGIN;
            float *r = &raw[(size_t)y * (size_t)w + (size_t)x];
            *r = v > *r ? v : *r;
        }
}

int sim_ocr_detect(const uint8_t *rgb, int h, int w, float *prob)
{
    const size_t n = (size_t)h * (size_t)w;
    uint8_t *words = malloc(n ? n : 1);
    uint16_t *height = malloc((n ? n : 1) * sizeof(uint16_t));
    float *raw = malloc((n ? n : 1) * sizeof(float));
    uint32_t *stack = malloc((n ? n : 1) * sizeof(uint32_t));
    int rc = -1;
    if (n > UINT32_MAX || words == NULL || height == NULL || raw == NULL || stack == NULL ||
        ink_mask(rgb, h, w, words) < 0)
        goto out;
    /* Letters, holes, then words of a line joined (run-length smoothing). */
    for (int y = 0; y < h; y++)
        close_gaps(words + (size_t)y * (size_t)w, (size_t)w, 1, LETTER_GAP);
    for (int x = 0; x < w; x++)
        close_gaps(words + x, (size_t)h, (size_t)w, HOLE_GAP);
    column_runs(words, h, w, height);
    for (int y = 0; y < h; y++)
        close_word_gaps(words + (size_t)y * (size_t)w, height + (size_t)y * (size_t)w, w);

    for (size_t i = 0; i < n; i++)
        raw[i] = P_BACKGROUND;
    for (size_t i = 0; i < n; i++)
        if (words[i])
            paint_line(words, h, w, i, stack, raw);

    /* 3 x 3 mean, edges clamped. */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float sum = 0.0f;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
                    int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
                    sum += raw[(size_t)yy * (size_t)w + (size_t)xx];
                }
            prob[(size_t)y * (size_t)w + (size_t)x] = sum / 9.0f;
        }
    rc = 0;
out:
    free(words);
    free(height);
    free(raw);
    free(stack);
    return rc;
}

/* ---- recognition ------------------------------------------------------------ */

/* The 62 characters glyphs read as: digits and letters (CTC classes). */
static int glyph_class(unsigned idx)
{
    idx %= 62;
    if (idx < 10)
        return 1 + (int)idx; /* '0'..'9' */
    if (idx < 36)
        return 18 + (int)(idx - 10); /* 'A'..'Z' */
    return 50 + (int)(idx - 36);     /* 'a'..'z' */
}

#define CLASS_SPACE 95

typedef struct glyph {
    int x0, x1; /* columns, inclusive */
    int cls;
    float peak;
} glyph;

/* The crop's paper brightness: the 90th percentile of its non-pad pixels
 * (-1 when it has none). */
static int crop_paper(const uint8_t *rgb, int h, int w)
{
    unsigned hist[256] = {0}, total = 0;
    for (size_t i = 0; i < (size_t)h * (size_t)w; i++)
        if (!is_pad(rgb + 3 * i)) {
            hist[luminance(rgb + 3 * i)]++;
            total++;
        }
    if (total == 0)
        return -1;
    unsigned want = total - total / 10, seen = 0;
    for (int v = 0; v < 256; v++) {
        seen += hist[v];
        if (seen >= want)
            return v;
    }
    return 255;
}

/* A glyph's class from its 3 x 4 ink pattern and its width relative to
 * the text height, mixed with the language. */
static void glyph_read(const uint8_t *ink, int w, int top, int bottom, glyph *g, uint64_t lang_hash)
{
    const int gh = bottom - top + 1, gw = g->x1 - g->x0 + 1;
    uint32_t pattern = 0;
    for (int cy = 0; cy < 4; cy++)
        for (int cx = 0; cx < 3; cx++) {
            int ya = top + cy * gh / 4, yb = top + (cy + 1) * gh / 4;
            int xa = g->x0 + cx * gw / 3, xb = g->x0 + (cx + 1) * gw / 3;
            int on = 0, all = 0;
            for (int y = ya; y < (yb > ya ? yb : ya + 1); y++)
                for (int x = xa; x < (xb > xa ? xb : xa + 1); x++) {
                    on += ink[(size_t)y * (size_t)w + (size_t)x];
                    all++;
                }
            pattern = pattern << 1 | (unsigned)(on * 10 >= all * 3);
        }
    uint32_t shape[2] = {pattern, (uint32_t)(gw * 4 / (gh > 0 ? gh : 1))};
    uint64_t hsh = sim_hash(lang_hash, shape, sizeof(shape));
    g->cls = glyph_class((unsigned)(hsh >> 17));
    g->peak = 0.82f + 0.16f * (float)((hsh >> 40) & 0xff) / 255.0f;
}

void sim_ocr_recognize(const uint8_t *rgb, int h, int w, uint64_t seed, const char *lang,
                       float *probs)
{
    int cls[SIM_OCR_STEPS];
    float peak[SIM_OCR_STEPS];
    glyph glyphs[SIM_OCR_STEPS];
    int n_glyphs = 0;
    const size_t n = (size_t)h * (size_t)w;
    uint8_t *ink = calloc(n ? n : 1, 1);
    int *colsum = calloc((size_t)(w > 0 ? w : 1), sizeof(int));
    uint64_t content = sim_hash(seed, rgb, n * 3);
    uint64_t lang_hash = sim_hash(SIM_FNV_OFFSET, lang, strlen(lang));

    for (int t = 0; t < SIM_OCR_STEPS; t++) {
        cls[t] = 0;
        peak[t] = 0.97f;
    }
    int paper = crop_paper(rgb, h, w);
    if (ink != NULL && colsum != NULL && paper >= 0) {
        int top = h, bottom = -1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const uint8_t *px = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
                if (!is_pad(px) && is_ink(luminance(px), paper)) {
                    ink[(size_t)y * (size_t)w + (size_t)x] = 1;
                    colsum[x]++;
                    top = y < top ? y : top;
                    bottom = y > bottom ? y : bottom;
                }
            }
        const int gh = bottom - top + 1;
        const int space_gap = gh * 30 / 100 > 4 ? gh * 30 / 100 : 4;
        int x = 0, prev_end = -1;
        while (bottom >= 0 && x < w && n_glyphs < SIM_OCR_STEPS) {
            if (colsum[x] == 0) {
                x++;
                continue;
            }
            int x0 = x;
            while (x < w && colsum[x] > 0)
                x++;
            int run = x - x0;
            /* A space where the gap to the previous glyph is a word's. */
            if (prev_end >= 0 && x0 - prev_end - 1 >= space_gap && n_glyphs < SIM_OCR_STEPS)
                glyphs[n_glyphs++] = (glyph){prev_end + 1, x0 - 1, CLASS_SPACE, 0.9f};
            /* Touching glyphs: split a run much wider than the text height. */
            int parts = (run * 10 + gh * 7 / 2) / (gh * 7 > 0 ? gh * 7 : 1);
            parts = parts < 1 ? 1 : parts > 8 ? 8 : parts;
            for (int k = 0; k < parts && n_glyphs < SIM_OCR_STEPS; k++) {
                glyph *g = &glyphs[n_glyphs++];
                g->x0 = x0 + k * run / parts;
                g->x1 = x0 + (k + 1) * run / parts - 1;
                glyph_read(ink, w, top, bottom, g, lang_hash);
            }
            prev_end = x - 1;
        }
    }
    /* Lay the glyphs out over the time steps, in order, never two equal
     * classes in adjacent steps (CTC would merge them). */
    int next = 0;
    for (int i = 0; i < n_glyphs; i++) {
        int centre = (glyphs[i].x0 + glyphs[i].x1) / 2;
        int t = w > 0 ? centre * SIM_OCR_STEPS / w : 0;
        t = t < next ? next : t;
        if (t > 0 && cls[t - 1] == glyphs[i].cls)
            t++;
        if (t >= SIM_OCR_STEPS)
            break;
        cls[t] = glyphs[i].cls;
        peak[t] = glyphs[i].peak;
        next = t + 1;
    }
    /* Each step a distribution: the winner, three runners-up sharing most
     * of the rest, a floor everywhere else. */
    const float floor_p = 1e-5f;
    for (int t = 0; t < SIM_OCR_STEPS; t++) {
        float *row = probs + (size_t)t * SIM_OCR_CLASSES;
        uint64_t rng = content ^ ((uint64_t)(t + 1) * 0x9e3779b97f4a7c15ull);
        float rest = 1.0f - peak[t] - floor_p * (SIM_OCR_CLASSES - 1 - 3);
        float wsum = 0.0f, wts[3];
        int other[3];
        for (int c = 0; c < SIM_OCR_CLASSES; c++)
            row[c] = floor_p;
        for (int k = 0; k < 3; k++) {
            do
                other[k] = (int)(sim_rng_next(&rng) % SIM_OCR_CLASSES);
            while (other[k] == cls[t] || (k > 0 && other[k] == other[0]) ||
                   (k > 1 && other[k] == other[1]));
            wts[k] = 0.2f + (sim_rng_float(&rng) + 1.0f);
            wsum += wts[k];
        }
        for (int k = 0; k < 3; k++)
            row[other[k]] = rest * wts[k] / wsum;
        row[cls[t]] = peak[t];
    }
    free(ink);
    free(colsum);
}
