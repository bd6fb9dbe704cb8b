/*
 * audio_frames.h - the decoding side of audio_decode(): the whitelisted
 * decoder of the chosen stream, fed the stream's packets, handing out
 * decoded frames in order.  With a helper thread, demuxing and decoding run
 * ahead of the caller (who resamples and calls the sink) through a bounded
 * queue; without, frames are decoded on demand in the calling thread.  The
 * frames are the same either way.  Internal to src/audio.
 */
#ifndef HDM_AUDIO_AUDIO_FRAMES_H
#define HDM_AUDIO_AUDIO_FRAMES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "audio_source.h"

/* Frames queued at most, and the bytes of samples they may hold (whichever
 * is reached first; one frame is always allowed).  The consumer holds at
 * most as many again, taken in one batch. */
#define AUDIO_FRAMES_AHEAD 16
#define AUDIO_FRAMES_AHEAD_BYTES (2 << 20)

typedef struct audio_frames {
    audio_source *src;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *scratch; /* the decoder's output before it is queued */
    bool threaded;
    bool started; /* the helper thread runs (join it) */
    pthread_t thread;
    /* Counts as ffmpeg keeps them for its max_error_rate rule. */
    uint64_t ok_calls, err_calls;
    /* The queue between the helper thread and the caller. */
    pthread_mutex_t mu;
    pthread_cond_t can_put, can_get;
    AVFrame *queue[AUDIO_FRAMES_AHEAD];
    unsigned head, count;
    size_t queued_bytes;
    bool producer_waits; /* the helper waits for room */
    bool consumer_waits; /* the caller waits for frames */
    bool done;           /* no more frames will come */
    /* The caller's batch, taken[next_taken..n_taken) (caller only). */
    AVFrame *taken[AUDIO_FRAMES_AHEAD];
    unsigned n_taken, next_taken;
    bool flushed;        /* the decoder was sent its end of stream */
    int error;           /* the decoding side's failure, with error_msg */
    hdm_err error_msg;
} audio_frames;

/*
 * Opens the decoder of src's stream (refused unless whitelisted; sets
 * info->codec) and, when threaded, starts the helper thread.  Returns 0 or
 * -HDM_E_* with a sentence.  audio_frames_close() must be called either way.
 */
int audio_frames_open(audio_frames *fr, audio_source *src, bool threaded, audio_info *info,
                      hdm_err *err);

/*
 * The next decoded frame (*out, owned by the caller: av_frame_free() it).
 * Returns 1 with a frame, 0 at the end of the stream, or -HDM_E_* (budget,
 * memory) with a sentence.  Packets the decoder refuses are counted and
 * skipped, and a read error ends the stream, as ffmpeg does.
 */
int audio_frames_next(audio_frames *fr, AVFrame **out, hdm_err *err);

/* Stops the helper thread (cancelling its work when the stream is not
 * finished), frees the queue and the decoder. */
void audio_frames_close(audio_frames *fr);

#endif
