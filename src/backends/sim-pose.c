/*
 * sim-pose.c - the simulator's yolov8s_pose: the nine head outputs of the
 * real network (per stride 32, 16, 8: DFL box logits (64), score (1),
 * keypoints (51)), float32 (1, H/s, W/s, C), with people where the image is
 * bright.
 *
 * DESIGN: a service decodes these exactly as it would the real chip's, so
 * they must live in the real value domains: the score head is already a
 * sigmoid (a probability; background cells get 0.0005 .. 0.0025), box sides
 * are 16 DFL logits per side, keypoints are (x, y) offsets in the decoder's
 * (2v - 0.5) * stride convention plus a visibility logit.  The "network":
 * bright cells (mean luminance >= 160 on the stride-8 grid; the letterbox
 * grey 114 never counts) grouped into 4-connected blobs; each blob of at
 * least 3 cells is one person (the 16 largest), boxed by the blob's cells,
 * scored 0.6 .. 0.95 by its brightness, anchored at the cell holding its
 * centre on the finest stride whose DFL range (15 strides each way) covers
 * it.  Each side's distance is encoded two-hot (weights 1-f and f on the
 * bins around it), so the decoded box is the blob's box.  Keypoints follow
 * a standing figure's proportions inside the box; each is visible when the
 * image is bright there.  Two neighbouring cells repeat the person at a
 * lower score, as a real detector does, so NMS has work to do.  Everything
 * is a pure function of the image (and the model name for the head names).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "common/tensor.h"

#define CELL 8
#define BRIGHT 160
#define MIN_CELLS 3
#define MAX_PEOPLE 16
#define LEVELS 3
#define BINS 16
#define OFF_LOGIT (-20.0f)

static const int strides[LEVELS] = {32, 16, 8};
static const struct {
    const char *name;
    int channels;
} heads[3] = {{"bbox", 64}, {"cls", 1}, {"kpts", 51}};

/* Where the 17 COCO keypoints sit in a standing figure's box (x, y in 0..1). */
static const float figure[17][2] = {
    {.50f, .08f}, {.46f, .06f}, {.54f, .06f}, {.42f, .08f}, {.58f, .08f}, {.35f, .22f},
    {.65f, .22f}, {.28f, .38f}, {.72f, .38f}, {.25f, .52f}, {.75f, .52f}, {.40f, .55f},
    {.60f, .55f}, {.40f, .75f}, {.60f, .75f}, {.40f, .95f}, {.60f, .95f},
};

typedef struct blob {
    int x0, y0, x1, y1; /* cells, inclusive */
    int cells;
    uint64_t lum_sum;
} blob;

typedef struct scene {
    int h, w;      /* model input */
    int gh, gw;    /* stride-8 grid */
    uint8_t *lum;  /* mean luminance per stride-8 cell */
    blob people[MAX_PEOPLE];
    int n_people;
} scene;

static inline unsigned lum_at(const uint8_t *px, int h, int w, bool chw, int y, int x)
{
    size_t plane = (size_t)h * (size_t)w, at = (size_t)y * (size_t)w + (size_t)x;
    unsigned r, g, b;
    if (chw) {
        r = px[at], g = px[plane + at], b = px[2 * plane + at];
    } else {
        r = px[3 * at], g = px[3 * at + 1], b = px[3 * at + 2];
    }
    return (77 * r + 150 * g + 29 * b) >> 8;
}

static int accept_image(const hdm_tensor *t, int h, int w, bool *chw, hdm_err *err)
{
    char got[128];
    const int64_t *s = t->shape;
    int off = (t->ndim == 4 && s[0] == 1) ? 1 : 0;
    if (t->dtype == HDM_DT_UINT8 && t->ndim - off == 3 && t->data != NULL) {
        if (s[off] == h && s[off + 1] == w && s[off + 2] == 3) {
            *chw = false;
            return 0;
        }
        if (s[off] == 3 && s[off + 1] == h && s[off + 2] == w) {
            *chw = true;
            return 0;
        }
    }
    sim_tensor_desc(t, got, sizeof(got));
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "input_data.input: expected uint8 [%d,%d,3] (HWC), [3,%d,%d] (CHW) or "
                       "either with a leading 1, got %s",
                       h, w, h, w, got);
}

/* Mean luminance of each 8x8 cell, from every other pixel of it. */
static void cell_luminance(scene *sc, const uint8_t *px, bool chw)
{
    for (int gy = 0; gy < sc->gh; gy++)
        for (int gx = 0; gx < sc->gw; gx++) {
            unsigned sum = 0, n = 0;
            for (int y = gy * CELL; y < (gy + 1) * CELL && y < sc->h; y += 2)
                for (int x = gx * CELL; x < (gx + 1) * CELL && x < sc->w; x += 2) {
                    sum += lum_at(px, sc->h, sc->w, chw, y, x);
                    n++;
                }
            sc->lum[(size_t)gy * (size_t)sc->gw + (size_t)gx] = (uint8_t)(n ? sum / n : 0);
        }
}

static int blob_order(const void *a, const void *b)
{
    const blob *x = a, *y = b;
    if (x->cells != y->cells)
        return x->cells > y->cells ? -1 : 1;
    if (x->y0 != y->y0)
        return x->y0 < y->y0 ? -1 : 1;
    return (x->x0 > y->x0) - (x->x0 < y->x0);
}

/* 4-connected blobs of bright cells; keeps the MAX_PEOPLE largest. */
static int find_people(scene *sc, hdm_err *err)
{
    size_t n = (size_t)sc->gh * (size_t)sc->gw;
    uint8_t *seen = calloc(n, 1);
    uint32_t *queue = malloc(n * sizeof(uint32_t));
    blob *all = NULL;
    size_t n_all = 0, cap = 0;
    int rc = 0;
    if (seen == NULL || queue == NULL)
        goto nomem;
    for (size_t start = 0; start < n; start++) {
        if (seen[start] || sc->lum[start] < BRIGHT)
            continue;
        blob bl = {sc->gw, sc->gh, -1, -1, 0, 0};
        size_t head = 0, tail = 0;
        queue[tail++] = (uint32_t)start;
        seen[start] = 1;
        while (head < tail) {
            uint32_t c = queue[head++];
            int cy = (int)(c / (uint32_t)sc->gw), cx = (int)(c % (uint32_t)sc->gw);
            bl.x0 = cx < bl.x0 ? cx : bl.x0;
            bl.x1 = cx > bl.x1 ? cx : bl.x1;
            bl.y0 = cy < bl.y0 ? cy : bl.y0;
            bl.y1 = cy > bl.y1 ? cy : bl.y1;
            bl.cells++;
            bl.lum_sum += sc->lum[c];
            static const int dy[4] = {-1, 1, 0, 0}, dx[4] = {0, 0, -1, 1};
            for (int k = 0; k < 4; k++) {
                int ny = cy + dy[k], nx = cx + dx[k];
                if (ny < 0 || nx < 0 || ny >= sc->gh || nx >= sc->gw)
                    continue;
                size_t nc = (size_t)ny * (size_t)sc->gw + (size_t)nx;
                if (!seen[nc] && sc->lum[nc] >= BRIGHT) {
                    seen[nc] = 1;
                    queue[tail++] = (uint32_t)nc;
                }
            }
        }
        if (bl.cells < MIN_CELLS)
            continue;
        if (n_all == cap) {
            size_t grown = cap ? cap * 2 : 32;
            blob *p = realloc(all, grown * sizeof(*p));
            if (p == NULL)
                goto nomem;
            all = p;
            cap = grown;
        }
        all[n_all++] = bl;
    }
    if (n_all > 0)
        qsort(all, n_all, sizeof(*all), blob_order);
    sc->n_people = n_all < MAX_PEOPLE ? (int)n_all : MAX_PEOPLE;
    if (sc->n_people > 0)
        memcpy(sc->people, all, (size_t)sc->n_people * sizeof(blob));
    goto out;
nomem:
    rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory finding people");
out:
    free(seen);
    free(queue);
    free(all);
    return rc;
}

/* The 16 logits of one side at distance `d` pixels from the anchor, two-hot. */
static void dfl_side(float *bins, double d, int stride)
{
    double t = d / stride;
    t = t < 0 ? 0 : t > BINS - 1 ? BINS - 1 : t;
    int i = (int)t;
    double f = t - i;
    for (int k = 0; k < BINS; k++)
        bins[k] = OFF_LOGIT;
    if (1.0 - f > 1e-6)
        bins[i] = (float)log(1.0 - f);
    if (f > 1e-6 && i + 1 < BINS)
        bins[i + 1] = (float)log(f);
}

/* Writes person `p` (box in pixels) into cell (gy, gx) of level `lv`. */
static void write_person(scene *sc, float *out[LEVELS][3], int lv, int gy, int gx,
                         const double box[4], float score)
{
    const int s = strides[lv];
    const int gw = (sc->w + s - 1) / s, gh = (sc->h + s - 1) / s;
    if (gy < 0 || gx < 0 || gy >= gh || gx >= gw)
        return;
    const size_t cell = (size_t)gy * (size_t)gw + (size_t)gx;
    const double cx = (gx + 0.5) * s, cy = (gy + 0.5) * s;
    float *bins = out[lv][0] + cell * 64;
    dfl_side(bins, cx - box[0], s);
    dfl_side(bins + BINS, cy - box[1], s);
    dfl_side(bins + 2 * BINS, box[2] - cx, s);
    dfl_side(bins + 3 * BINS, box[3] - cy, s);
    out[lv][1][cell] = score;
    float *kp = out[lv][2] + cell * 51;
    for (int k = 0; k < 17; k++) {
        double kx = box[0] + figure[k][0] * (box[2] - box[0]);
        double ky = box[1] + figure[k][1] * (box[3] - box[1]);
        int ly = (int)ky / CELL, lx = (int)kx / CELL;
        ly = ly < 0 ? 0 : ly >= sc->gh ? sc->gh - 1 : ly;
        lx = lx < 0 ? 0 : lx >= sc->gw ? sc->gw - 1 : lx;
        double vis = ((double)sc->lum[(size_t)ly * (size_t)sc->gw + (size_t)lx] - 90.0) / 16.0;
        kp[k * 3] = (float)(((kx - cx) / s + 0.5) / 2.0);
        kp[k * 3 + 1] = (float)(((ky - cy) / s + 0.5) / 2.0);
        kp[k * 3 + 2] = (float)(vis < -6 ? -6 : vis > 6 ? 6 : vis);
    }
}

static void place_people(scene *sc, float *out[LEVELS][3])
{
    /* Smallest first, so a larger person wins a shared cell. */
    for (int i = sc->n_people - 1; i >= 0; i--) {
        const blob *bl = &sc->people[i];
        double box[4] = {bl->x0 * CELL, bl->y0 * CELL, (bl->x1 + 1) * CELL,
                         (bl->y1 + 1) * CELL};
        box[2] = box[2] > sc->w ? sc->w : box[2];
        box[3] = box[3] > sc->h ? sc->h : box[3];
        double bx = (box[0] + box[2]) / 2, by = (box[1] + box[3]) / 2;
        double half = fmax(box[2] - box[0], box[3] - box[1]) / 2;
        int lv = 2; /* stride 8 */
        while (lv > 0 && half > 14.0 * strides[lv])
            lv--;
        const int s = strides[lv];
        double mean = (double)bl->lum_sum / bl->cells;
        float score = (float)(0.6 + 0.35 * fmin(1.0, (mean - BRIGHT) / (255.0 - BRIGHT)));
        int gy = (int)(by / s), gx = (int)(bx / s);
        write_person(sc, out, lv, gy, gx + 1, box, score * 0.85f);
        write_person(sc, out, lv, gy + 1, gx, box, score * 0.8f);
        write_person(sc, out, lv, gy, gx, box, score);
    }
}

/* Background: no person anywhere; scores follow the brightness faintly. */
static void fill_background(scene *sc, float *out[LEVELS][3])
{
    for (int lv = 0; lv < LEVELS; lv++) {
        const int s = strides[lv];
        const int gw = (sc->w + s - 1) / s, gh = (sc->h + s - 1) / s;
        for (int gy = 0; gy < gh; gy++)
            for (int gx = 0; gx < gw; gx++) {
                size_t cell = (size_t)gy * (size_t)gw + (size_t)gx;
                int ly = gy * s / CELL, lx = gx * s / CELL;
                ly = ly >= sc->gh ? sc->gh - 1 : ly;
                lx = lx >= sc->gw ? sc->gw - 1 : lx;
                float lum = sc->lum[(size_t)ly * (size_t)sc->gw + (size_t)lx] / 255.0f;
                memset(out[lv][0] + cell * 64, 0, 64 * sizeof(float));
                out[lv][1][cell] = 0.0005f + 0.002f * lum;
                float *kp = out[lv][2] + cell * 51;
                for (int k = 0; k < 17; k++) {
                    kp[k * 3] = kp[k * 3 + 1] = 0.0f;
                    kp[k * 3 + 2] = -4.0f;
                }
            }
    }
}

int sim_infer_pose(const backend *b, backend_model *m, const infer_input *in,
                   const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    char name[160], stem[96];
    bool chw = false;
    scene sc = {.h = m->in_h, .w = m->in_w};
    float *data[LEVELS][3] = {{NULL}};
    int rc = accept_image(&in->u.dense.input, sc.h, sc.w, &chw, err);
    if (rc < 0)
        return rc;
    rc = sim_npu_run(b, m, 0, m->infer_ms, hooks, err);
    if (rc < 0)
        return rc;

    sc.gh = (sc.h + CELL - 1) / CELL;
    sc.gw = (sc.w + CELL - 1) / CELL;
    sc.lum = malloc((size_t)sc.gh * (size_t)sc.gw);
    if (sc.lum == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory finding people");
    cell_luminance(&sc, in->u.dense.input.data, chw);
    rc = find_people(&sc, err);
    if (rc < 0)
        goto out;
    for (int lv = 0; lv < LEVELS; lv++)
        for (int hd = 0; hd < 3; hd++) {
            int s = strides[lv];
            size_t cells = (size_t)((sc.h + s - 1) / s) * (size_t)((sc.w + s - 1) / s);
            data[lv][hd] = malloc(cells * (size_t)heads[hd].channels * sizeof(float));
            if (data[lv][hd] == NULL) {
                rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
                goto out;
            }
        }
    fill_background(&sc, data);
    place_people(&sc, data);

    const char *base = strrchr(m->path, '/');
    base = base ? base + 1 : m->path;
    snprintf(stem, sizeof(stem), "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = '\0';
    out->result = cJSON_CreateObject();
    if (out->result == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
        goto out;
    }
    for (int lv = 0; lv < LEVELS; lv++)
        for (int hd = 0; hd < 3; hd++) {
            int s = strides[lv], gh = (sc.h + s - 1) / s, gw = (sc.w + s - 1) / s;
            hdm_tensor t = {.dtype = HDM_DT_FLOAT32,
                            .ndim = 4,
                            .shape = {1, gh, gw, heads[hd].channels},
                            .data = data[lv][hd],
                            .nbytes = (size_t)gh * (size_t)gw * (size_t)heads[hd].channels *
                                      sizeof(float)};
            data[lv][hd] = NULL; /* out owns it now, even on failure */
            cJSON *obj = infer_output_add_tensor(out, &t);
            if (obj == NULL) {
                rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
                goto out;
            }
            snprintf(name, sizeof(name), "%s/%s_s%d", stem, heads[hd].name, s);
            cJSON_AddItemToObject(out->result, name, obj);
        }
out:
    for (int lv = 0; lv < LEVELS; lv++)
        for (int hd = 0; hd < 3; hd++)
            free(data[lv][hd]);
    free(sc.lum);
    return rc;
}
