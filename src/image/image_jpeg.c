/*
 * image_jpeg.c - JPEG to RGB8 with libjpeg-turbo.
 *
 * DESIGN: the header is read first and its dimensions checked against the
 * limits before any pixel buffer exists (a 100000x100000 header costs
 * nothing).  When the caller needs only `min_side` pixels on the shorter
 * side, libjpeg's DCT scaling decodes at 1/2, 1/4 or 1/8 directly - the
 * cheapest and a good-quality downscale, as Pillow's draft mode does.
 * libjpeg reports errors through error_exit, which must not return: we
 * longjmp back with the message formatted.  A truncated file only produces
 * warnings in libjpeg (it pads the data with an EOI and greys the rest), so
 * our memory source notes when the data ran out and the "hit marker" warning
 * the entropy decoder gives when it still needed bits becomes a truncation
 * error.  A file that lacks only its final EOI marker decodes whole and is
 * accepted, as Pillow does.  CMYK and YCCK are
 * decoded as CMYK and converted as Pillow does; Adobe's files store the
 * channels inverted.
 *
 * Work is bounded by libjpeg's progress monitor, which libjpeg calls once
 * per row of blocks it reads (and per call to read_scanlines): a
 * progressive file may have at most max_scans scans (libjpeg-turbo has no
 * limit: each scan walks every block of the image, so a 567 KB file of
 * 5000 tiny scans cost 35 s), and the decode stops when its thread has
 * used max_cpu_ms.  When EXIF orientation is asked for, the first APP1
 * marker is kept (at most 64 KB, as markers are) and read as OpenCV does:
 * the TIFF block 6 bytes in, after "Exif\0\0".
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "image/image_internal.h"

/* A memory source that serves a fake EOI once the data is exhausted and
 * remembers that it had to. */
typedef struct jpeg_mem_source {
    struct jpeg_source_mgr pub;
    int ran_out;
} jpeg_mem_source;

static const JOCTET fake_eoi[2] = {0xFF, JPEG_EOI};

static void src_init(j_decompress_ptr cinfo) { (void)cinfo; }
static void src_term(j_decompress_ptr cinfo) { (void)cinfo; }

static boolean src_fill(j_decompress_ptr cinfo)
{
    jpeg_mem_source *src = (jpeg_mem_source *)cinfo->src;
    src->ran_out = 1;
    src->pub.next_input_byte = fake_eoi;
    src->pub.bytes_in_buffer = sizeof(fake_eoi);
    return TRUE;
}

static void src_skip(j_decompress_ptr cinfo, long num_bytes)
{
    struct jpeg_source_mgr *pub = cinfo->src;
    if (num_bytes <= 0)
        return;
    while ((size_t)num_bytes > pub->bytes_in_buffer) {
        num_bytes -= (long)pub->bytes_in_buffer;
        src_fill(cinfo);
    }
    pub->next_input_byte += num_bytes;
    pub->bytes_in_buffer -= (size_t)num_bytes;
}

typedef enum jpeg_stop {
    JPEG_STOP_ERROR,     /* libjpeg's error_exit: msg says why */
    JPEG_STOP_SCANS,     /* more than max_scans scans */
    JPEG_STOP_BUDGET,    /* max_cpu_ms used */
} jpeg_stop;

typedef struct jpeg_error_ctx {
    struct jpeg_error_mgr mgr;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    jpeg_mem_source *src;
    image_job *job;
    jpeg_stop stop;
    unsigned calls;      /* progress monitor calls, to read the clock every 16th */
} jpeg_error_ctx;

static void on_error_exit(j_common_ptr cinfo)
{
    jpeg_error_ctx *e = (jpeg_error_ctx *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level)
{
    jpeg_error_ctx *e = (jpeg_error_ctx *)cinfo->err;
    /* level -1 is a warning: the entropy decoder needed bits past our fake
     * EOI, so pixels are missing. Other warnings (stray bytes) are tolerated. */
    if (level == -1 && cinfo->err->msg_code == JWRN_HIT_MARKER && e->src->ran_out) {
        (*cinfo->err->format_message)(cinfo, e->msg);
        longjmp(e->jump, 1);
    }
}

static void on_progress(j_common_ptr cinfo)
{
    jpeg_error_ctx *e = (jpeg_error_ctx *)cinfo->err;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    int max_scans = e->job->o->limits.max_scans;
    if (max_scans > 0 && d->input_scan_number > max_scans) {
        e->stop = JPEG_STOP_SCANS;
        longjmp(e->jump, 1);
    }
    if ((++e->calls & 15) == 0 && image_over_budget(e->job)) {
        e->stop = JPEG_STOP_BUDGET;
        longjmp(e->jump, 1);
    }
}

/* The orientation from the first APP1 marker, as OpenCV reads it. */
static int exif_orientation(j_decompress_ptr ci)
{
    for (jpeg_saved_marker_ptr m = ci->marker_list; m != NULL; m = m->next)
        if (m->marker == JPEG_APP0 + 1)
            return m->data_length > 6 ? image_exif_orientation(m->data + 6, m->data_length - 6)
                                      : 0;
    return 0;
}

/* Largest DCT scale denominator keeping the shorter side >= min_side. */
static unsigned pick_scale(unsigned width, unsigned height, int min_side)
{
    if (min_side <= 0)
        return 1;
    unsigned shorter = width < height ? width : height;
    for (unsigned denom = 8; denom > 1; denom /= 2) {
        if ((shorter + denom - 1) / denom >= (unsigned)min_side)
            return denom;
    }
    return 1;
}

/* Pillow's CMYK to RGB: r = (255 - c) * (255 - k) / 255 (rounded). */
static void cmyk_row_to_rgb(const uint8_t *in, uint8_t *out, unsigned width, int inverted)
{
    for (unsigned x = 0; x < width; x++) {
        unsigned c = in[4 * x], m = in[4 * x + 1], y = in[4 * x + 2], k = in[4 * x + 3];
        if (!inverted) {
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        /* Now every value is "amount of light": out = a * k / 255. */
        unsigned t;
        t = c * k + 128;
        out[3 * x] = (uint8_t)((t + (t >> 8)) >> 8);
        t = m * k + 128;
        out[3 * x + 1] = (uint8_t)((t + (t >> 8)) >> 8);
        t = y * k + 128;
        out[3 * x + 2] = (uint8_t)((t + (t >> 8)) >> 8);
    }
}

/* Decoder state kept out of locals: setjmp may clobber non-volatile locals. */
typedef struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    jpeg_error_ctx jerr;
    jpeg_mem_source src;
    uint8_t *rgb;
    uint8_t *row;
} jpeg_job;

int image_decode_jpeg(const uint8_t *data, size_t len, image_job *ij, image *out, hdm_err *err)
{
    jpeg_job *job = calloc(1, sizeof(*job));
    int rc = 0;
    if (job == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding JPEG");
    job->cinfo.err = jpeg_std_error(&job->jerr.mgr);
    job->jerr.mgr.error_exit = on_error_exit;
    job->jerr.mgr.emit_message = on_emit_message;
    job->jerr.src = &job->src;
    job->jerr.job = ij;
    job->jerr.progress.progress_monitor = on_progress;
    if (setjmp(job->jerr.jump) != 0) {
        if (job->jerr.stop == JPEG_STOP_SCANS)
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "JPEG has more than %d progressive scans (the limit; a decoding bomb?)",
                             ij->o->limits.max_scans);
        else if (job->jerr.stop == JPEG_STOP_BUDGET)
            rc = image_budget_error(ij, "JPEG", err);
        else if (job->src.ran_out)
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "image is truncated (JPEG data ends early)");
        else
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "invalid JPEG data: %s", job->jerr.msg);
        goto out;
    }
    jpeg_create_decompress(&job->cinfo);
    job->cinfo.progress = &job->jerr.progress;
    if (ij->o->exif_orientation)
        jpeg_save_markers(&job->cinfo, JPEG_APP0 + 1, 0xFFFF);
    job->src.pub.init_source = src_init;
    job->src.pub.fill_input_buffer = src_fill;
    job->src.pub.skip_input_data = src_skip;
    job->src.pub.resync_to_restart = jpeg_resync_to_restart;
    job->src.pub.term_source = src_term;
    job->src.pub.next_input_byte = data;
    job->src.pub.bytes_in_buffer = len;
    job->cinfo.src = &job->src.pub;
    jpeg_read_header(&job->cinfo, TRUE);

    struct jpeg_decompress_struct *ci = &job->cinfo;
    rc = image_admit(ij, "JPEG", ci->image_width, ci->image_height, err);
    if (rc < 0)
        goto out;
    if (ij->o->exif_orientation)
        ij->orientation = exif_orientation(ci);

    int cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = cmyk ? JCS_CMYK : JCS_RGB; /* grey -> RGB inside libjpeg-turbo */
    ci->scale_num = 1;
    ci->scale_denom = pick_scale(ci->image_width, ci->image_height, ij->o->min_side);
    jpeg_start_decompress(ci);

    unsigned w = ci->output_width, h = ci->output_height;
    if ((cmyk && ci->output_components != 4) || (!cmyk && ci->output_components != 3)) {
        rc = hdm_err_set(err, HDM_E_UNSUPPORTED, "JPEG with %d colour components is not supported",
                         ci->output_components);
        goto out;
    }
    job->rgb = image_pixels_alloc((size_t)w * h * 3);
    if (cmyk)
        job->row = malloc((size_t)w * 4);
    if (job->rgb == NULL || (cmyk && job->row == NULL)) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %ux%u JPEG", w, h);
        goto out;
    }
    while (ci->output_scanline < h) {
        /* RGB straight into the image, as many rows per call as libjpeg
         * gives at once (a row group: fewer calls and copies); CMYK one
         * row at a time through the conversion. */
        enum { MAX_ROWS = 16 };
        JSAMPROW rows[MAX_ROWS];
        unsigned first = ci->output_scanline, want = cmyk ? 1 : h - first;
        if (want > MAX_ROWS)
            want = MAX_ROWS;
        for (unsigned k = 0; k < want; k++)
            rows[k] = cmyk ? job->row : job->rgb + (size_t)(first + k) * w * 3;
        if (jpeg_read_scanlines(ci, rows, want) < 1) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "image is truncated (JPEG data ends early)");
            goto out;
        }
        if (cmyk)
            cmyk_row_to_rgb(job->row, job->rgb + (size_t)first * w * 3, w, ci->saw_Adobe_marker);
    }
    /* No jpeg_finish_decompress: every pixel is in, and a file missing only
     * its EOI marker (common from some cameras) is still a whole image. */
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = job->rgb;
    out->gate_slot = ij->slot;
    ij->slot = 0;
    job->rgb = NULL;
out:
    image_job_release(ij); /* nothing left to release after a success */
    jpeg_destroy_decompress(&job->cinfo);
    image_pixels_free(job->rgb);
    free(job->row);
    free(job);
    return rc;
}
