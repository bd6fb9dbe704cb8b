/*
 * pose_test_util.c - see pose_test_util.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pose_test_util.h"

static const int strides[3] = {32, 16, 8};
static const int channels[3] = {64, 1, 51};

float *pose_outputs_at(pose_outputs *o, int level, int head, int gy, int gx)
{
    int g = 640 / strides[level];
    float *base = o->t[level * 3 + head].data;
    return base + ((size_t)gy * (size_t)g + (size_t)gx) * (size_t)channels[head];
}

static void range_of(const cJSON *bg, const char *key, long *lo, long *hi)
{
    const cJSON *r = cJSON_GetObjectItem(bg, key);
    assert_true(cJSON_IsArray(r));
    *lo = (long)cJSON_GetArrayItem(r, 0)->valuedouble;
    *hi = (long)cJSON_GetArrayItem(r, 1)->valuedouble;
}

void pose_outputs_build(const cJSON *desc, int batch, pose_outputs *out)
{
    uint32_t s = (uint32_t)cJSON_GetObjectItem(desc, "seed")->valuedouble;
    const cJSON *bg = cJSON_GetObjectItem(desc, "background");
    long lo[4], hi[4];
    static const float den[4] = {64.0f, 4096.0f, 64.0f, 64.0f};
    range_of(bg, "box", &lo[0], &hi[0]);
    range_of(bg, "cls", &lo[1], &hi[1]);
    range_of(bg, "kxy", &lo[2], &hi[2]);
    range_of(bg, "kv", &lo[3], &hi[3]);

    for (int lv = 0; lv < 3; lv++) {
        int g = 640 / strides[lv];
        for (int hd = 0; hd < 3; hd++) {
            hdm_tensor *t = &out->t[lv * 3 + hd];
            size_t n = (size_t)g * (size_t)g * (size_t)channels[hd];
            memset(t, 0, sizeof(*t));
            t->dtype = HDM_DT_FLOAT32;
            int d = 0;
            if (batch)
                t->shape[d++] = 1;
            t->shape[d++] = g;
            t->shape[d++] = g;
            t->shape[d++] = channels[hd];
            t->ndim = d;
            t->nbytes = n * sizeof(float);
            float *v = malloc(t->nbytes);
            for (size_t i = 0; i < n; i++) {
                s = s * 1664525u + 1013904223u;
                int k = hd == 0 ? 0 : hd == 1 ? 1 : (i % 3 == 2 ? 3 : 2);
                v[i] = (float)(lo[k] + (long)((s >> 8) % (uint32_t)(hi[k] - lo[k] + 1))) / den[k];
            }
            t->data = v;
        }
    }
    const cJSON *cells = cJSON_GetObjectItem(desc, "cells"), *c;
    cJSON_ArrayForEach(c, cells)
    {
        int st = (int)cJSON_GetObjectItem(c, "stride")->valuedouble;
        int lv = st == 32 ? 0 : st == 16 ? 1 : 2;
        int gy = (int)cJSON_GetObjectItem(c, "gy")->valuedouble;
        int gx = (int)cJSON_GetObjectItem(c, "gx")->valuedouble;
        static const char *const heads[3] = {"box", "cls", "kpt"};
        for (int hd = 0; hd < 3; hd++) {
            const cJSON *v = cJSON_GetObjectItem(c, heads[hd]);
            if (v == NULL)
                continue;
            float *dst = pose_outputs_at(out, lv, hd, gy, gx);
            if (cJSON_IsNumber(v)) {
                dst[0] = (float)v->valuedouble;
                continue;
            }
            assert_int_equal(cJSON_GetArraySize(v), channels[hd]);
            int i = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, v) dst[i++] = (float)e->valuedouble;
        }
    }
}

void pose_outputs_free(pose_outputs *o)
{
    for (int i = 0; i < POSE_TEST_OUTPUTS; i++) {
        free(o->t[i].data);
        o->t[i].data = NULL;
    }
}

cJSON *pose_load_json(const char *rel)
{
    const char *dir = getenv("HDM_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    text[n] = '\0';
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (j == NULL)
        fail_msg("%s is not JSON", path);
    return j;
}
