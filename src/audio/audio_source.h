/*
 * audio_source.h - the demuxing side of audio_decode(): a libavformat
 * context over the caller's memory (no temporary file, nothing else opened),
 * the demuxer and decoder whitelists, the probing bounds, the claimed
 * duration check, the audio stream choice and the CPU budget.  Internal to
 * src/audio.
 */
#ifndef HDM_AUDIO_AUDIO_SOURCE_H
#define HDM_AUDIO_AUDIO_SOURCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libavformat/avformat.h>

#include "audio.h"

/* Decoders that may run (libav's codec_whitelist syntax). */
#define AUDIO_SOURCE_DECODERS                                                                      \
    "pcm_s16le,pcm_s16be,pcm_s24le,pcm_s24be,pcm_s32le,pcm_s32be,pcm_f32le,pcm_f32be,"             \
    "pcm_f64le,pcm_f64be,pcm_u8,pcm_s8,pcm_alaw,pcm_mulaw,adpcm_ima_wav,adpcm_ms,"                 \
    "mp3float,mp3,mp2float,mp2,flac,alac,vorbis,opus,aac,aac_fixed"
/* The same, for people. */
#define AUDIO_SOURCE_CODECS_TEXT "PCM, ADPCM, MP3, MP2, FLAC, ALAC, Vorbis, Opus, AAC"
/* The containers, for people. */
#define AUDIO_SOURCE_FORMATS_TEXT                                                                  \
    "WAV, AIFF, MP3, FLAC, Ogg (Vorbis, Opus, FLAC), MP4/M4A, Matroska/WebM, AAC (ADTS)"

typedef struct audio_source {
    AVFormatContext *ic;
    AVIOContext *pb;
    const uint8_t *data;   /* the caller's encoded file */
    size_t len, pos;       /* read position of the memory reader */
    int stream;            /* index of the audio stream decoded */
    char format_label[32]; /* "MP3", "Ogg", "MP4/M4A": for sentences */
    int64_t max_cpu_ms;    /* 0: no budget */
    /* The CPU clocks of the (at most two) threads working on this decode,
     * their readings at the start, and the last reading (a finished
     * thread's clock cannot be read any more). */
    clockid_t clocks[2];
    int64_t clock_start_ms[2];
    _Atomic int64_t clock_last_ms[2];
    atomic_int n_clocks;
    _Atomic int64_t excluded_ms; /* time spent in the caller's sink */
    atomic_bool over_budget;     /* the budget is spent: everything stops */
    atomic_bool cancelled;       /* the decode is being abandoned */
} audio_source;

/*
 * Recognises the format of data[0..len), refuses what is not whitelisted,
 * opens the demuxer with the probing bounds of lim, reads the stream
 * parameters, checks the duration the container claims against
 * lim->max_seconds (1 s of slack for encoder padding; twice the limit when
 * the duration is only estimated from the bitrate), and picks the audio
 * stream ffmpeg would map.  Fills info->format, source_rate,
 * source_channels, claimed_seconds.  Returns 0, or -HDM_E_* with a sentence
 * (see audio_decode()).  audio_source_close() must be called either way.
 */
int audio_source_open(audio_source *s, const void *data, size_t len, const char *name_hint,
                      const audio_limits *lim, audio_info *info, hdm_err *err);
void audio_source_close(audio_source *s);

/* True when the decoder named so may run. */
bool audio_source_decoder_allowed(const char *name);

/* Counts the calling thread's CPU time in the budget from now on (the
 * opening thread is counted from audio_source_open()). */
void audio_source_add_thread(audio_source *s);
/* -HDM_E_DEADLINE_EXCEEDED once the CPU budget (all threads') is spent,
 * else 0.  Any thread may call it. */
int audio_source_check_budget(audio_source *s, hdm_err *err);
/* Makes the memory reader refuse to go on (another thread abandons the decode). */
void audio_source_cancel(audio_source *s);
bool audio_source_cancelled(audio_source *s);
/*
 * What an av_read_frame() failure means: the budget or memory ran out or
 * the decode was cancelled (a negative code with the sentence), or the
 * input ended (0: ffmpeg treats a damaged tail as the end of the input).
 */
int audio_source_read_failed(audio_source *s, int averr, hdm_err *err);

/*
 * The sentence for libav running out of memory: with AUDIO_MAX_ALLOC set,
 * that is a header asking for too much, so -HDM_E_BAD_REQUEST.
 */
int audio_source_nomem(const audio_source *s, hdm_err *err);

/* CPU time of the calling thread, ms. */
int64_t audio_source_cpu_ms(void);
/* Leaves ms (time the caller's thread spent outside the decoder) out of the budget. */
void audio_source_exclude_cpu(audio_source *s, int64_t ms);

/*
 * libav's own words for a failure: its last error line on this thread when
 * it logged one since the source was opened, else av_strerror's.  The
 * string lives in a thread-local buffer until the next call.
 */
const char *audio_source_reason(int averr);

#endif
