/*
 * test_embed.c - gather with end-token padding, end-row pick, projection
 * and L2 normalisation, checked against values worked out by hand.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cliptext/embed.h"

static char emb_path[64], proj_path[64];

static void write_npy(const char *path, const char *descr, int rows, int cols,
                      const void *data, size_t elem)
{
    char dict[128];
    snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }",
             descr, rows, cols);
    size_t dlen = strlen(dict);
    size_t pad = (64 - (10 + dlen + 1) % 64) % 64;
    size_t hlen = dlen + pad + 1;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(hlen & 0xFF),
                       (uint8_t)(hlen >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(dict, 1, dlen, f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    fwrite(data, elem, (size_t)rows * (size_t)cols, f);
    fclose(f);
}

/* Token table [5, 2]: row i = (i, 10 + i).  Projection [2, 3]. */
static void make_tables(const char *proj_descr)
{
    float table[10];
    for (int i = 0; i < 5; i++) {
        table[2 * i] = (float)i;
        table[2 * i + 1] = 10.0f + (float)i;
    }
    strcpy(emb_path, "/tmp/test_embed_emb_XXXXXX");
    strcpy(proj_path, "/tmp/test_embed_proj_XXXXXX");
    close(mkstemp(emb_path));
    close(mkstemp(proj_path));
    write_npy(emb_path, "<f4", 5, 2, table, 4);
    if (strcmp(proj_descr, "<f2") == 0) {
        /* [[1, 0, 2], [0, 1, 0]] in float16 */
        uint16_t proj[6] = {0x3C00, 0, 0x4000, 0, 0x3C00, 0};
        write_npy(proj_path, "<f2", 2, 3, proj, 2);
    } else {
        float proj[6] = {1, 0, 2, 0, 1, 0};
        write_npy(proj_path, "<f4", 2, 3, proj, 4);
    }
}

static void remove_tables(void)
{
    unlink(emb_path);
    unlink(proj_path);
}

static void test_gather_pads_with_end_row(void **state)
{
    (void)state;
    clip_text_tables t;
    hdm_err err = {0};
    make_tables("<f4");
    assert_int_equal(clip_tables_open(emb_path, proj_path, 3, &t, &err), 0);
    assert_int_equal(t.vocab, 5);
    assert_int_equal(t.width, 2);
    assert_int_equal(t.dim, 3);

    int32_t ids[3] = {3, 1, 4};
    float out[6 * 2];
    assert_int_equal(clip_embed_gather(&t, ids, 3, 6, out, &err), 0);
    float want[12] = {3, 13, 1, 11, 4, 14, 4, 14, 4, 14, 4, 14};
    for (int i = 0; i < 12; i++)
        assert_true(out[i] == want[i]);

    int32_t bad[2] = {1, 5};
    assert_int_equal(clip_embed_gather(&t, bad, 2, 6, out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "token id 5"));
    bad[1] = -1;
    assert_int_equal(clip_embed_gather(&t, bad, 2, 6, out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(clip_embed_gather(&t, ids, 7, 6, out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(clip_embed_gather(&t, ids, 0, 6, out, &err), -HDM_E_BAD_REQUEST);
    clip_tables_close(&t);
    remove_tables();
}

static void check_projection(const char *descr)
{
    clip_text_tables t;
    hdm_err err = {0};
    make_tables(descr);
    assert_int_equal(clip_tables_open(emb_path, proj_path, 0, &t, &err), 0);
    /* encoder output rows: (9, 9), (3, 4) <- end token at 1, (7, 7) */
    float enc[6] = {9, 9, 3, 4, 7, 7};
    float out[3];
    assert_int_equal(clip_embed_project(&t, enc, 3, 1, out, &err), 0);
    /* (3, 4) x [[1,0,2],[0,1,0]] = (3, 4, 6); norm sqrt(61) */
    double norm = sqrt(61.0);
    assert_float_equal(out[0], 3 / norm, 1e-6);
    assert_float_equal(out[1], 4 / norm, 1e-6);
    assert_float_equal(out[2], 6 / norm, 1e-6);
    assert_int_equal(clip_embed_project(&t, enc, 3, 3, out, &err), -HDM_E_INTERNAL);
    clip_tables_close(&t);
    clip_tables_close(&t);
    remove_tables();
}

static void test_projection_f32(void **state)
{
    (void)state;
    check_projection("<f4");
}

static void test_projection_f16(void **state)
{
    (void)state;
    check_projection("<f2");
}

static void test_table_mismatch(void **state)
{
    (void)state;
    clip_text_tables t;
    hdm_err err = {0};
    make_tables("<f4");
    /* expected dim 512 but the projection has 3 columns */
    assert_int_equal(clip_tables_open(emb_path, proj_path, 512, &t, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "expected 512"));
    /* projection rows must match the table width: swap the files */
    assert_int_equal(clip_tables_open(proj_path, emb_path, 0, &t, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "expected 3"));
    assert_int_equal(clip_tables_open("/nonexistent.npy", proj_path, 0, &t, &err),
                     -HDM_E_NOT_FOUND);
    remove_tables();
}

static void test_l2_normalize(void **state)
{
    (void)state;
    float v[4] = {1, 1, 1, 1};
    assert_float_equal(clip_l2_normalize(v, 4), 2.0, 1e-9);
    for (int i = 0; i < 4; i++)
        assert_float_equal(v[i], 0.5, 1e-7);
    float z[2] = {0, 0};
    assert_float_equal(clip_l2_normalize(z, 2), 0.0, 0);
    assert_true(z[0] == 0 && z[1] == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_pads_with_end_row),
        cmocka_unit_test(test_projection_f32),
        cmocka_unit_test(test_projection_f16),
        cmocka_unit_test(test_table_mismatch),
        cmocka_unit_test(test_l2_normalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
