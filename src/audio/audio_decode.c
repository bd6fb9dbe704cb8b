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
#include "audio_source.h"

/* Samples converted per sink call at most (bounded memory per frame). */
#define OUT_BLOCK 8192
/* swresample's channel limit (MAX_CHANNELS, not in its public header). */
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
}

typedef struct decoder {
    audio_source src; /* demuxer over the memory reader */
    const audio_limits *lim;
    audio_sink sink;
    void *sink_ctx;
    audio_info *info;
    AVCodecContext *dec;
    SwrContext *swr;
    AVChannelLayout swr_layout; /* the frames' layout swr was built for, as they said it */
    int swr_format, swr_rate;
    int16_t *s16; /* OUT_BLOCK converted samples */
    float *f32;   /* the same as floats for the sink */
    uint64_t ok_calls, err_calls;
} decoder;

/* ---- resampling ----------------------------------------------------------------- */

static int deliver(decoder *d, int n, hdm_err *err)
{
    if (n <= 0)
        return 0;
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
    return 0;
}

/* Converts (in, n) — or flushes the resampler when in is NULL — and delivers. */
static int resample(decoder *d, const uint8_t **in, int n, hdm_err *err)
{
    for (;;) {
        int got = swr_convert(d->swr, (uint8_t **)&d->s16, OUT_BLOCK, in, n);
        if (got < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "the audio could not be resampled: %s",
                               av_err2str(got));
        int rc = deliver(d, got, err);
        if (rc < 0)
            return rc;
        /* Whatever did not fit stays buffered in swr: drain it with empty input. */
        in = NULL;
        n = 0;
        if (got < OUT_BLOCK)
            return 0;
        if ((rc = audio_source_check_budget(&d->src, err)) < 0)
            return rc;
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

/* ---- decoding -------------------------------------------------------------------- */

/* Sends pkt (NULL flushes) and drains the frames, counting as ffmpeg counts. */
static int decode_packet(decoder *d, const AVPacket *pkt, AVFrame *f, hdm_err *err)
{
    int rc = avcodec_send_packet(d->dec, pkt);
    if (rc < 0 && rc != AVERROR_EOF) {
        if (rc == AVERROR(ENOMEM))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding the audio");
        d->err_calls++;
        d->info->decode_errors++;
        return 0;
    }
    for (;;) {
        rc = avcodec_receive_frame(d->dec, f);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0) {
            if (rc == AVERROR(ENOMEM))
                return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding the audio");
            d->err_calls++;
            d->info->decode_errors++;
            return 0;
        }
        d->ok_calls++;
        rc = on_frame(d, f, err);
        av_frame_unref(f);
        if (rc < 0)
            return rc;
    }
}

static int open_decoder(decoder *d, hdm_err *err)
{
    const AVStream *st = d->src.ic->streams[d->src.stream];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    AVDictionary *opts = NULL;
    int rc;

    if (!codec)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the %s file's audio codec (%s) has no decoder here",
                           d->src.format_label, avcodec_get_name(st->codecpar->codec_id));
    snprintf(d->info->codec, sizeof(d->info->codec), "%s", codec->name);
    if (!audio_source_decoder_allowed(codec->name))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the %s file's audio codec (%s) is not supported; supported: %s",
                           d->src.format_label, codec->long_name ? codec->long_name : codec->name,
                           AUDIO_SOURCE_CODECS_TEXT);
    d->dec = avcodec_alloc_context3(codec);
    if (!d->dec)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    if ((rc = avcodec_parameters_to_context(d->dec, st->codecpar)) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    d->dec->pkt_timebase = st->time_base;
    /* One thread: bounded memory and no threads behind the caller's back. */
    av_dict_set(&opts, "threads", "1", 0);
    av_dict_set(&opts, "codec_whitelist", AUDIO_SOURCE_DECODERS, 0);
    rc = avcodec_open2(d->dec, codec, &opts);
    av_dict_free(&opts);
    if (rc < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "the %s file's %s audio cannot be decoded: %s",
                           d->src.format_label, codec->name, audio_source_reason(rc));
    return 0;
}

static int run(decoder *d, hdm_err *err)
{
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int rc;

    if (!pkt || !f) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        if ((rc = audio_source_check_budget(&d->src, err)) < 0)
            goto out;
        rc = av_read_frame(d->src.ic, pkt);
        if (rc < 0) {
            /* ffmpeg ends the input on any read error; ours are budget and memory. */
            if ((rc = audio_source_read_failed(&d->src, rc, err)) < 0)
                goto out;
            break;
        }
        if (pkt->stream_index == d->src.stream)
            rc = decode_packet(d, pkt, f, err);
        av_packet_unref(pkt);
        if (rc < 0)
            goto out;
    }
    if ((rc = decode_packet(d, NULL, f, err)) < 0)
        goto out;
    if (d->swr && (rc = resample(d, NULL, 0, err)) < 0)
        goto out;

    if ((float)(d->ok_calls + d->err_calls) * MAX_ERROR_RATE < (float)d->err_calls) {
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                         "the %s file's audio is damaged: %llu of %llu packets could not be "
                         "decoded",
                         d->src.format_label, (unsigned long long)d->err_calls,
                         (unsigned long long)(d->ok_calls + d->err_calls));
        goto out;
    }
    if (d->info->samples == 0) {
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                         d->info->decode_errors
                             ? "no audio could be decoded from the %s file (it is truncated or "
                               "damaged)"
                             : "the %s file contains no audio samples",
                         d->src.format_label);
        goto out;
    }
    rc = 0;
out:
    av_packet_free(&pkt);
    av_frame_free(&f);
    return rc;
}

int audio_decode(const void *data, size_t len, const char *name_hint, const audio_limits *lim,
                 audio_sink sink, void *ctx, audio_info *info, hdm_err *err)
{
    audio_limits defaults;
    audio_info scratch;
    decoder d = {0};
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
    if ((rc = audio_source_open(&d.src, data, len, name_hint, lim, info, err)) < 0 ||
        (rc = open_decoder(&d, err)) < 0)
        goto out;
    rc = run(&d, err);
out:
    avcodec_free_context(&d.dec);
    swr_free(&d.swr);
    av_channel_layout_uninit(&d.swr_layout);
    audio_source_close(&d.src);
    free(d.s16);
    free(d.f32);
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
