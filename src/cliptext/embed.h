/*
 * embed.h - the CPU side of CLIP's text encoder around the NPU.
 *
 * Before the device: token ids -> rows of the token-embedding table
 * (token_embedding_lut.npy, [vocab, width]) -> a [1, 77, width] float32
 * input.  hailo-clip passes the 77 ids of clip_tokenize(), zero-padded as
 * hailo-apps pads them, so every row is the table row of its id.  After the
 * device: the encoder output row at the end-token position times
 * text_projection.npy ([width, dim]), L2-normalised.  Library code: never
 * logs.
 */
#ifndef HDM_CLIPTEXT_EMBED_H
#define HDM_CLIPTEXT_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "common/npy.h"
#include "common/err.h"

typedef struct clip_text_tables {
    npy_array token_embedding; /* [vocab, width], mapped */
    npy_array projection;      /* [width, dim], mapped */
    const float *proj;         /* projection as float32: into the map, or proj_owned */
    float *proj_owned;         /* converted copy (float16 or misaligned files) */
    int64_t vocab;             /* rows of the token table */
    int width;                 /* encoder width (token table columns) */
    int dim;                   /* embedding dimension (projection columns) */
} clip_text_tables;

/*
 * Maps both tables and checks them: 2-D, float32 or float16, projection
 * rows == token table columns, and, when expected_dim > 0, projection
 * columns == expected_dim.  Errors name the file and the mismatch.
 */
int clip_tables_open(const char *token_embedding_path, const char *projection_path,
                     int expected_dim, clip_text_tables *out, hdm_err *err);
/* Releases both mappings.  Accepts NULL and zeroed structs. */
void clip_tables_close(clip_text_tables *t);

/*
 * Writes the encoder input out[seq_len * width]: row i is the table row of
 * ids[i] for i < n, and the row of ids[n - 1] (the end token) after that.
 * 1 <= n <= seq_len.  An id outside the table is -HDM_E_BAD_REQUEST naming it.
 */
int clip_embed_gather(const clip_text_tables *t, const int32_t *ids, int n, int seq_len,
                      float *out, hdm_err *err);

/*
 * From the encoder output enc[rows * width] takes row `eot_pos`, multiplies
 * it by the projection and L2-normalises it into out[dim].
 */
int clip_embed_project(const clip_text_tables *t, const float *enc, int rows, int eot_pos,
                       float *out, hdm_err *err);

/* Scales v[0..n) to unit length; returns the original norm (0 leaves v as is). */
double clip_l2_normalize(float *v, size_t n);

#endif
