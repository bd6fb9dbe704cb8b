/*
 * image_png.c - PNG to RGB8 with libpng.
 *
 * DESIGN: libpng reads from our memory reader, which raises a libpng error
 * when the data ends early (so a truncated file is an error naming
 * truncation, not a half-grey image).  IHDR is read and its dimensions
 * checked before any row is allocated; libpng's own user limits are lifted
 * so our check is the one that speaks.  Transformations bring every colour
 * type to RGB8 as Pillow's convert("RGB") does: palette and low-bit grey
 * expanded, tRNS and alpha dropped (not composited), 16-bit reduced to the
 * high byte, grey copied to the three channels.  Errors longjmp back to
 * png_jmpbuf; the state lives in a struct, not in locals, so setjmp cannot
 * clobber it.  libpng calls our row callback after every row (of every
 * interlace pass), where every 16th row checks the decode's CPU budget.
 * With EXIF orientation asked for, an eXIf chunk before the image data is
 * read (what libpng has by then, as OpenCV's decoder does).
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "image/image_internal.h"

typedef struct png_job {
    image_job *ij;
    int over_budget;
    unsigned rows_seen;
    const uint8_t *data;
    size_t len;
    size_t pos;
    int truncated;
    char msg[256];
    png_structp png;
    png_infop info;
    uint8_t *rgb;
    png_bytep *rows;
} png_job;

static void on_png_error(png_structp png, png_const_charp message)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->msg, sizeof(job->msg), "%s", message);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message; /* warnings (bad ancillary chunks) do not stop decoding */
}

static void on_png_read(png_structp png, png_bytep out, size_t n)
{
    png_job *job = png_get_io_ptr(png);
    if (n > job->len - job->pos) {
        job->truncated = 1;
        png_error(png, "image is truncated (PNG data ends early)");
    }
    memcpy(out, job->data + job->pos, n);
    job->pos += n;
}

static void on_png_row(png_structp png, png_uint_32 row, int pass)
{
    (void)row;
    (void)pass;
    png_job *job = png_get_io_ptr(png);
    if ((++job->rows_seen & 15) == 0 && image_over_budget(job->ij)) {
        job->over_budget = 1;
        png_error(png, "CPU budget used");
    }
}

int image_decode_png(const uint8_t *data, size_t len, image_job *ij, image *out, hdm_err *err)
{
    png_job *job = calloc(1, sizeof(*job));
    int rc = 0;
    if (job == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding PNG");
    job->ij = ij;
    job->data = data;
    job->len = len;
    job->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job, on_png_error, on_png_warning);
    if (job->png != NULL)
        job->info = png_create_info_struct(job->png);
    if (job->png == NULL || job->info == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding PNG");
        goto out;
    }
    if (setjmp(png_jmpbuf(job->png)) != 0) {
        if (job->over_budget)
            rc = image_budget_error(ij, "PNG", err);
        else if (job->truncated)
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "image is truncated (PNG data ends early)");
        else
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "invalid PNG data: %s", job->msg);
        goto out;
    }
    png_set_read_fn(job->png, job, on_png_read);
    png_set_read_status_fn(job->png, on_png_row);
    png_set_user_limits(job->png, 0x7fffffff, 0x7fffffff);
    png_read_info(job->png, job->info);

    png_uint_32 w = png_get_image_width(job->png, job->info);
    png_uint_32 h = png_get_image_height(job->png, job->info);
    rc = image_admit(ij, "PNG", w, h, err);
    if (rc < 0)
        goto out;
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 exif_len = 0;
    if (ij->o->exif_orientation && png_get_eXIf_1(job->png, job->info, &exif_len, &exif) != 0)
        ij->orientation = image_exif_orientation(exif, exif_len);
#endif

    int color = png_get_color_type(job->png, job->info);
    png_set_expand(job->png); /* palette -> RGB, grey < 8 bit -> 8, tRNS -> alpha */
    png_set_strip_16(job->png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(job->png);
    png_set_strip_alpha(job->png);
    png_set_interlace_handling(job->png);
    png_read_update_info(job->png, job->info);

    size_t rowbytes = png_get_rowbytes(job->png, job->info);
    if (rowbytes != (size_t)w * 3 || png_get_channels(job->png, job->info) != 3) {
        rc = hdm_err_set(err, HDM_E_UNSUPPORTED,
                         "PNG colour type %d could not be converted to RGB", color);
        goto out;
    }
    job->rgb = image_pixels_alloc((size_t)w * h * 3);
    job->rows = malloc((size_t)h * sizeof(*job->rows));
    if (job->rgb == NULL || job->rows == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %ux%u PNG", (unsigned)w,
                         (unsigned)h);
        goto out;
    }
    for (png_uint_32 y = 0; y < h; y++)
        job->rows[y] = job->rgb + (size_t)y * rowbytes;
    png_read_image(job->png, job->rows);
    /* png_read_end is skipped on purpose: the pixels are all in, and chunks
     * after IDAT (text, time) do not matter to us. */
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = job->rgb;
    out->gate_slot = ij->slot;
    ij->slot = 0;
    job->rgb = NULL;
out:
    image_job_release(ij);
    if (job->png != NULL)
        png_destroy_read_struct(&job->png, job->info != NULL ? &job->info : NULL, NULL);
    image_pixels_free(job->rgb);
    free(job->rows);
    free(job);
    return rc;
}
