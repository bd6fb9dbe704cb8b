/*
 * audio_decode.c - encoded audio in memory to 16 kHz mono float32 blocks.
 *
 * DESIGN: the steps are those of the ffmpeg command the original ran
 * (`ffmpeg -i F -f s16le -ac 1 -acodec pcm_s16le -ar 16000 -`), so the
 * samples are the same:
 *   - probe: av_probe_input_buffer2() over our memory reader, as ffmpeg's
 *     avformat_open_input() does, then refuse anything off the demuxer
 *     whitelist (audio_source.c);
 *   - stream: the audio stream ffmpeg would map (most channels, preferring
 *     streams that had packets and default ones); every other stream is
 *     discarded and never decoded;
 *   - decode: the decoder avcodec_find_decoder() gives (ffmpeg's choice),
 *     refused unless whitelisted, pkt_timebase set as ffmpeg sets it;
 *   - resample: one SwrContext with default options converting the decoder's
 *     format, rate and layout straight to s16 mono 16 kHz, as the aresample
 *     filter ffmpeg's filter graph inserts; an unspecified layout is guessed
 *     (av_channel_layout_default) as ffmpeg guesses it; then s / 32768.
 *   - errors: a packet the decoder refuses is counted and skipped, a read
 *     error ends the input, and the decode fails only when more than 2/3 of
 *     the decode calls failed: ffmpeg's max_error_rate rule (its exit 69).
 * When the decoder's output format changes mid-stream the resampler is
 * flushed and rebuilt (ffmpeg rebuilds its filter graph there).
 *
 * Decoding and resampling cost about the same; with lim->decode_thread a
 * helper thread demuxes and decodes (audio_frames.c) while the calling
 * thread resamples and feeds the sink, which nearly halves the time on two
 * cores and changes no sample.  Samples reach the sink in blocks of
 * OUT_BLOCK, so the sink, the duration check and the CPU clock run a few
 * times a second, not once a frame.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "audio.h"
#include "audio_frames.h"
#include "audio_source.h"

/* Samples per sink call (the last may be fewer): 0.5 s, few calls, little memory. */
#define OUT_BLOCK 8192
/* swresample's channel limit (its SWR_CH_MAX, not in its public header). */
#define MAX_CHANNELS 64
/* ffmpeg's -max_error_rate default: fail when more of the decode calls fail. */
#define MAX_ERROR_RATE (2.0f / 3.0f)

void audio_limits_defaults(audio_limits *lim)
{
    lim->max_bytes = AUDIO_DEFAULT_MAX_BYTES;
    lim->max_seconds = AUDIO_DEFAULT_MAX_SECONDS;
    lim->max_cpu_ms = AUDIO_DEFAULT_MAX_CPU_MS;
    lim->probe_bytes = AUDIO_DEFAULT_PROBE_BYTES;
    lim->analyze_us = AUDIO_DEFAULT_ANALYZE_US;
    lim->decode_thread = true;
}

typedef struct decoder {
    audio_source src;    /* demuxer over the memory reader */
    audio_frames frames; /* its decoder, maybe on a helper thread */
    const audio_limits *lim;
    audio_sink sink;
    void *sink_ctx;
    audio_info *info;
    SwrContext *swr;
    AVChannelLayout swr_layout; /* the frames' layout swr was built for, as they said it */
    int swr_format, swr_rate;
    int16_t *s16; /* OUT_BLOCK converted samples */
    int fill;     /* of which this many are waiting for the sink */
    float *f32;   /* the same as floats for the sink */
} decoder;

/* ---- resampling ----------------------------------------------------------------- */

/* Hands the OUT_BLOCK buffer's samples to the sink as floats. */
static int deliver(decoder *d, hdm_err *err)
{
    int n = d->fill;
    if (n <= 0)
        return 0;
    d->fill = 0;
    for (int i = 0; i < n; i++)
        d->f32[i] = (float)d->s16[i] / 32768.0f;
    d->info->samples += (uint64_t)n;
    int64_t sink_start = audio_source_cpu_ms();
    int rc = d->sink(d->sink_ctx, d->f32, (size_t)n, err);
    audio_source_exclude_cpu(&d->src, audio_source_cpu_ms() - sink_start);
    if (rc < 0) {
        if (err && !err->msg[0])
            hdm_err_set(err, -rc, "the receiver of the decoded audio stopped the decode");
        return rc;
    }
    /* The original's check, duration = n / 16000 > max, kept as it grows. */
    if ((double)d->info->samples / AUDIO_RATE > d->lim->max_seconds)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "Audio duration exceeds %g seconds",
                           d->lim->max_seconds);
    return audio_source_check_budget(&d->src, err);
}

/*
 * Converts (in, n) into the output buffer, delivering it whenever it is
 * full; with in NULL, flushes the resampler's tail instead (end of stream or
 * of a format).  Whatever does not fit stays in swr and is drained with an
 * empty but non-NULL input: a NULL input would flush (pad) mid-stream.
 */
static int resample(decoder *d, const uint8_t **in, int n, hdm_err *err)
{
    const uint8_t **src = in;
    for (;;) {
        uint8_t *out = (uint8_t *)(d->s16 + d->fill);
        int got = swr_convert(d->swr, &out, OUT_BLOCK - d->fill, src, n);
        if (got < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "the audio could not be resampled: %s",
                               av_err2str(got));
        d->fill += got;
        if (d->fill < OUT_BLOCK)
            return 0; /* swr had no more for us */
        int rc = deliver(d, err);
        if (rc < 0)
            return rc;
        n = 0;
    }
}

static int swr_setup(decoder *d, const AVFrame *f, hdm_err *err)
{
    AVChannelLayout in_layout = {0}, seen = {0};
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    int rc;

    if (f->ch_layout.nb_channels < 1 || f->ch_layout.nb_channels > MAX_CHANNELS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the audio has %d channels (1 to %d are supported)",
                           f->ch_layout.nb_channels, MAX_CHANNELS);
    if (f->sample_rate < 1 || f->sample_rate > 768000)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the audio's sample rate of %d Hz is not supported", f->sample_rate);
    if (av_channel_layout_copy(&seen, &f->ch_layout) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&in_layout, f->ch_layout.nb_channels);
    else if (av_channel_layout_copy(&in_layout, &f->ch_layout) < 0) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto out;
    }

    if (d->swr) {
        /* Format change: what the old context holds belongs before the new audio. */
        if ((rc = resample(d, NULL, 0, err)) < 0)
            goto out;
        swr_free(&d->swr);
    }
    rc = swr_alloc_set_opts2(&d->swr, &mono, AV_SAMPLE_FMT_S16, AUDIO_RATE, &in_layout, f->format,
                             f->sample_rate, 0, NULL);
    if (rc >= 0)
        rc = swr_init(d->swr);
    if (rc < 0) {
        swr_free(&d->swr);
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                         "the audio's format (%d channels, %d Hz, %s) cannot be resampled: %s",
                         f->ch_layout.nb_channels, f->sample_rate,
                         av_get_sample_fmt_name(f->format) ? av_get_sample_fmt_name(f->format)
                                                           : "unknown samples",
                         av_err2str(rc));
        goto out;
    }
    av_channel_layout_uninit(&d->swr_layout);
    d->swr_layout = seen;
    seen = (AVChannelLayout){0};
    d->swr_format = f->format;
    d->swr_rate = f->sample_rate;
    rc = 0;
out:
    av_channel_layout_uninit(&in_layout);
    av_channel_layout_uninit(&seen);
    return rc;
}

static bool swr_matches(const decoder *d, const AVFrame *f)
{
    return d->swr && f->format == d->swr_format && f->sample_rate == d->swr_rate &&
           av_channel_layout_compare(&d->swr_layout, &f->ch_layout) == 0;
}

static int on_frame(decoder *d, AVFrame *f, hdm_err *err)
{
    int rc;
    d->info->frames++;
    if (f->nb_samples <= 0)
        return 0;
    if (!swr_matches(d, f) && (rc = swr_setup(d, f, err)) < 0)
        return rc;
    return resample(d, (const uint8_t **)f->extended_data, f->nb_samples, err);
}

/* ---- the stream ------------------------------------------------------------------ */

static int run(decoder *d, hdm_err *err)
{
    AVFrame *f = NULL;
    int rc;

    while ((rc = audio_frames_next(&d->frames, &f, err)) == 1) {
        rc = on_frame(d, f, err);
        av_frame_free(&f);
        if (rc < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    if ((d->swr && (rc = resample(d, NULL, 0, err)) < 0) || (rc = deliver(d, err)) < 0)
        return rc;

    uint64_t ok = d->frames.ok_calls, bad = d->frames.err_calls;
    d->info->decode_errors = bad;
    if ((float)(ok + bad) * MAX_ERROR_RATE < (float)bad)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the %s file's audio is damaged: %llu of %llu packets could not be "
                           "decoded",
                           d->src.format_label, (unsigned long long)bad,
                           (unsigned long long)(ok + bad));
    if (d->info->samples == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           bad ? "no audio could be decoded from the %s file (it is truncated or "
                                 "damaged)"
                               : "the %s file contains no audio samples",
                           d->src.format_label);
    return 0;
}

int audio_decode(const void *data, size_t len, const char *name_hint, const audio_limits *lim,
                 audio_sink sink, void *ctx, audio_info *info, hdm_err *err)
{
    audio_limits defaults;
    audio_info scratch;
    decoder d = {0};
    bool opened = false;
    int rc;

    if (!lim) {
        audio_limits_defaults(&defaults);
        lim = &defaults;
    }
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof(*info));
    info->claimed_seconds = -1;
    d.lim = lim;
    d.sink = sink;
    d.sink_ctx = ctx;
    d.info = info;

    d.s16 = malloc(OUT_BLOCK * sizeof(int16_t));
    d.f32 = malloc(OUT_BLOCK * sizeof(float));
    if (!d.s16 || !d.f32) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = audio_source_open(&d.src, data, len, name_hint, lim, info, err)) < 0)
        goto out;
    opened = true;
    if ((rc = audio_frames_open(&d.frames, &d.src, lim->decode_thread, info, err)) < 0)
        goto out;
    rc = run(&d, err);
out:
    /* The helper thread stops before the demuxer it reads goes away. */
    if (opened)
        audio_frames_close(&d.frames);
    if (rc < 0)
        d.info->decode_errors = d.frames.err_calls;
    swr_free(&d.swr);
    av_channel_layout_uninit(&d.swr_layout);
    audio_source_close(&d.src);
    free(d.s16);
    free(d.f32);
    return rc;
}

int audio_probe(const void *data, size_t len, const char *name_hint, const audio_limits *lim,
                audio_info *info, hdm_err *err)
{
    audio_limits defaults;
    audio_info scratch;
    audio_source src = {0};
    audio_frames frames = {0};
    int rc;

    if (!lim) {
        audio_limits_defaults(&defaults);
        lim = &defaults;
    }
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof(*info));
    info->claimed_seconds = -1;
    rc = audio_source_open(&src, data, len, name_hint, lim, info, err);
    if (rc == 0) {
        /* The decoder opened inline (no helper thread) and closed again. */
        rc = audio_frames_open(&frames, &src, false, info, err);
        audio_frames_close(&frames);
    }
    audio_source_close(&src);
    return rc;
}

/* ---- whole-buffer convenience ------------------------------------------------------ */

typedef struct collector {
    float *samples;
    size_t n, cap;
} collector;

static int collect(void *ctx, const float *samples, size_t n, hdm_err *err)
{
    collector *c = ctx;
    if (c->n + n > c->cap) {
        size_t cap = c->cap ? c->cap : 65536;
        while (cap < c->n + n)
            cap *= 2;
        float *p = realloc(c->samples, cap * sizeof(float));
        if (!p)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory collecting decoded audio");
        c->samples = p;
        c->cap = cap;
    }
    memcpy(c->samples + c->n, samples, n * sizeof(float));
    c->n += n;
    return 0;
}

int audio_decode_all(const void *data, size_t len, const char *name_hint, const audio_limits *lim,
                     float **samples, size_t *n, audio_info *info, hdm_err *err)
{
    collector c = {0};
    int rc = audio_decode(data, len, name_hint, lim, collect, &c, info, err);
    if (rc < 0) {
        free(c.samples);
        *samples = NULL;
        *n = 0;
        return rc;
    }
    *samples = c.samples;
    *n = c.n;
    return 0;
}
