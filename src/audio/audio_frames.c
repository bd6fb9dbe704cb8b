/*
 * audio_frames.c - packets to decoded frames, inline or on a helper thread.
 * See audio_frames.h.
 *
 * DESIGN: produce() is ffmpeg's decode loop turned inside out: it returns
 * the next frame, reading and sending packets as the decoder asks for them,
 * counting a refused packet or a failed receive as ffmpeg's
 * check_decode_result() does (one error, then on to the next packet), and
 * flushing the decoder at the end of the input.  Inline, audio_frames_next()
 * is produce().  Threaded, the helper thread runs produce() into a bounded
 * queue (redis bio.c's mutex and two condition variables) and
 * audio_frames_next() takes all it holds at once, so the threads meet once
 * per batch, not once per frame (a futex pair per frame cost a third more
 * CPU); closing sets the source's cancel flag, which the memory reader and
 * the queue both honour, then joins.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/samplefmt.h>

#include "audio_frames.h"

/* The CPU budget is checked every this many packets (each check is a syscall). */
#define BUDGET_EVERY 16
/* The waiting consumer is woken once this many frames are ready. */
#define WAKE_BATCH 12

static size_t frame_bytes(const AVFrame *f)
{
    int bytes =
        av_samples_get_buffer_size(NULL, f->ch_layout.nb_channels, f->nb_samples, f->format, 1);
    return bytes > 0 ? (size_t)bytes : 0;
}

/* Hands the frame in fr->scratch over in a new AVFrame. */
static int take_frame(audio_frames *fr, AVFrame **out, hdm_err *err)
{
    AVFrame *f = av_frame_alloc();
    if (!f)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding the audio");
    av_frame_move_ref(f, fr->scratch);
    *out = f;
    return 1;
}

/* The next frame: 1 (and *out), 0 at the end, or -HDM_E_*. */
static int produce(audio_frames *fr, AVFrame **out, hdm_err *err)
{
    unsigned long packets = 0;
    int rc;

    for (;;) {
        /* Frames the decoder still holds come first. */
        rc = avcodec_receive_frame(fr->dec, fr->scratch);
        if (rc == 0) {
            fr->ok_calls++;
            return take_frame(fr, out, err);
        }
        if (rc == AVERROR_EOF)
            return 0;
        if (rc == AVERROR(ENOMEM))
            return audio_source_nomem(fr->src, err);
        if (rc != AVERROR(EAGAIN))
            fr->err_calls++; /* a damaged packet: counted, then the next one */
        if (fr->flushed)
            return 0;

        if (packets++ % BUDGET_EVERY == 0 && (rc = audio_source_check_budget(fr->src, err)) < 0)
            return rc;
        rc = av_read_frame(fr->src->ic, fr->pkt);
        if (rc < 0) {
            /* ffmpeg ends the input on any read error; ours are budget, memory, cancel. */
            if ((rc = audio_source_read_failed(fr->src, rc, err)) < 0)
                return rc;
            fr->flushed = true;
            avcodec_send_packet(fr->dec, NULL);
            continue;
        }
        if (fr->pkt->stream_index != fr->src->stream) {
            av_packet_unref(fr->pkt);
            continue;
        }
        rc = avcodec_send_packet(fr->dec, fr->pkt);
        av_packet_unref(fr->pkt);
        if (rc == AVERROR(ENOMEM))
            return audio_source_nomem(fr->src, err);
        if (rc < 0 && rc != AVERROR_EOF)
            fr->err_calls++;
    }
}

/* ---- the helper thread ------------------------------------------------------------- */

static void *helper(void *arg)
{
    audio_frames *fr = arg;
    hdm_err err = {0};
    AVFrame *f = NULL;
    int rc;

    audio_source_add_thread(fr->src);
    while ((rc = produce(fr, &f, &err)) == 1) {
        size_t bytes = frame_bytes(f);
        pthread_mutex_lock(&fr->mu);
        while (!audio_source_cancelled(fr->src) &&
               (fr->count == AUDIO_FRAMES_AHEAD ||
                (fr->count > 0 && fr->queued_bytes + bytes > AUDIO_FRAMES_AHEAD_BYTES))) {
            fr->producer_waits = true;
            pthread_cond_wait(&fr->can_put, &fr->mu);
        }
        fr->producer_waits = false;
        if (audio_source_cancelled(fr->src)) {
            pthread_mutex_unlock(&fr->mu);
            av_frame_free(&f);
            rc = 0;
            break;
        }
        fr->queue[(fr->head + fr->count) % AUDIO_FRAMES_AHEAD] = f;
        fr->count++;
        fr->queued_bytes += bytes;
        f = NULL;
        /* Wake a waiting consumer with a batch, not for every frame (each
         * wake-up is a pair of context switches). */
        if (fr->consumer_waits &&
            (fr->count >= WAKE_BATCH || fr->queued_bytes > AUDIO_FRAMES_AHEAD_BYTES / 2)) {
            fr->consumer_waits = false;
            pthread_cond_signal(&fr->can_get);
        }
        pthread_mutex_unlock(&fr->mu);
    }
    pthread_mutex_lock(&fr->mu);
    fr->done = true;
    if (rc < 0) {
        fr->error = rc;
        fr->error_msg = err;
    }
    pthread_cond_signal(&fr->can_get);
    pthread_mutex_unlock(&fr->mu);
    return NULL;
}

/* ---- the interface ------------------------------------------------------------------ */

int audio_frames_open(audio_frames *fr, audio_source *src, bool threaded, audio_info *info,
                      hdm_err *err)
{
    const AVStream *st = src->ic->streams[src->stream];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    AVDictionary *opts = NULL;
    int rc;

    memset(fr, 0, sizeof(*fr));
    fr->src = src;
    pthread_mutex_init(&fr->mu, NULL);
    pthread_cond_init(&fr->can_put, NULL);
    pthread_cond_init(&fr->can_get, NULL);
    if (!codec)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the %s file's audio codec (%s) has no decoder here", src->format_label,
                           avcodec_get_name(st->codecpar->codec_id));
    snprintf(info->codec, sizeof(info->codec), "%s", codec->name);
    if (!audio_source_decoder_allowed(codec->name))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the %s file's audio codec (%s) is not supported; supported: %s",
                           src->format_label, codec->long_name ? codec->long_name : codec->name,
                           AUDIO_SOURCE_CODECS_TEXT);
    fr->dec = avcodec_alloc_context3(codec);
    fr->pkt = av_packet_alloc();
    fr->scratch = av_frame_alloc();
    if (!fr->dec || !fr->pkt || !fr->scratch ||
        avcodec_parameters_to_context(fr->dec, st->codecpar) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    /* As ffmpeg sets it (the decoder trims priming and padding by it). */
    fr->dec->pkt_timebase = st->time_base;
    /* libav's own frame threads stay off: our helper thread is the one. */
    av_dict_set(&opts, "threads", "1", 0);
    av_dict_set(&opts, "codec_whitelist", AUDIO_SOURCE_DECODERS, 0);
    rc = avcodec_open2(fr->dec, codec, &opts);
    av_dict_free(&opts);
    if (rc < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "the %s file's %s audio cannot be decoded: %s",
                           src->format_label, codec->name, audio_source_reason(rc));
    fr->threaded = threaded;
    if (threaded) {
        if (pthread_create(&fr->thread, NULL, helper, fr) != 0)
            return hdm_err_set(err, HDM_E_NOMEM, "cannot start the audio decoding thread");
        fr->started = true;
    }
    return 0;
}

int audio_frames_next(audio_frames *fr, AVFrame **out, hdm_err *err)
{
    if (!fr->threaded)
        return produce(fr, out, err);
    if (fr->next_taken < fr->n_taken) {
        *out = fr->taken[fr->next_taken++];
        return 1;
    }
    /* Take everything queued at once: one lock (and at most one wake-up)
     * per batch rather than per frame. */
    pthread_mutex_lock(&fr->mu);
    while (fr->count == 0 && !fr->done) {
        fr->consumer_waits = true;
        pthread_cond_wait(&fr->can_get, &fr->mu);
    }
    fr->consumer_waits = false;
    fr->n_taken = fr->next_taken = 0;
    while (fr->count > 0) {
        fr->taken[fr->n_taken++] = fr->queue[fr->head];
        fr->head = (fr->head + 1) % AUDIO_FRAMES_AHEAD;
        fr->count--;
    }
    fr->queued_bytes = 0;
    if (fr->producer_waits) {
        fr->producer_waits = false;
        pthread_cond_signal(&fr->can_put);
    }
    int rc = 0;
    if (fr->n_taken > 0) {
        *out = fr->taken[fr->next_taken++];
        rc = 1;
    } else if (fr->error < 0) {
        if (err)
            *err = fr->error_msg;
        rc = fr->error;
    }
    pthread_mutex_unlock(&fr->mu);
    return rc;
}

void audio_frames_close(audio_frames *fr)
{
    if (fr->started) {
        pthread_mutex_lock(&fr->mu);
        audio_source_cancel(fr->src);
        pthread_cond_broadcast(&fr->can_put);
        pthread_mutex_unlock(&fr->mu);
        pthread_join(fr->thread, NULL);
        fr->started = false;
    }
    while (fr->count > 0) {
        av_frame_free(&fr->queue[fr->head]);
        fr->head = (fr->head + 1) % AUDIO_FRAMES_AHEAD;
        fr->count--;
    }
    while (fr->next_taken < fr->n_taken)
        av_frame_free(&fr->taken[fr->next_taken++]);
    av_frame_free(&fr->scratch);
    av_packet_free(&fr->pkt);
    avcodec_free_context(&fr->dec);
    pthread_cond_destroy(&fr->can_get);
    pthread_cond_destroy(&fr->can_put);
    pthread_mutex_destroy(&fr->mu);
}
