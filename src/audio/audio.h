/*
 * audio.h - any audio file a user has, decoded to 16 kHz mono float32 in
 * memory with Debian's libavformat/libavcodec/libswresample, streamed to a
 * callback in small blocks so memory stays bounded whatever the duration.
 *
 * What comes out matches, sample for sample, what the original service got
 * from `ffmpeg -i FILE -f s16le -ac 1 -acodec pcm_s16le -ar 16000 -` followed
 * by numpy's `int16 / 32768.0`: the same demuxers and decoders, one
 * swresample context with ffmpeg's defaults converting straight to signed
 * 16-bit mono at 16 kHz (the 16-bit target is what makes swresample
 * normalise a stereo downmix to 0.5 L + 0.5 R), then s / 32768.
 *
 * Inputs are never trusted: the encoded size, the duration the container
 * claims (checked before decoding) and the duration really decoded (checked
 * as it grows), the bytes read to recognise the format, the CPU time spent
 * are all bounded; only whitelisted demuxers (WAV, AIFF, MP3, FLAC, Ogg,
 * MP4/M4A, Matroska/WebM, ADTS AAC) and audio decoders run; nothing can open
 * another file or a network address; only the audio stream is decoded.
 *
 * Threads: with lim->decode_thread (the default) each call demuxes and
 * decodes on one helper thread of its own while the calling thread
 * resamples; the sink is always called on the calling thread, in order.
 *
 * Process-wide settings made by the first call (libav has no other way):
 * a log callback that keeps libav silent (library code never logs) and
 * remembers, per thread, its last error line, which error sentences quote;
 * and av_max_alloc(AUDIO_MAX_ALLOC), so no header can make a demuxer
 * allocate gigabytes (a 191-byte WAV asked the wav demuxer for 1.9 GB).
 */
#ifndef HDM_AUDIO_AUDIO_H
#define HDM_AUDIO_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Largest single allocation libav may make in this process. */
#define AUDIO_MAX_ALLOC (128u << 20)

/* The rate every decoded sample is delivered at (Whisper's). */
#define AUDIO_RATE 16000

/* The original's upload limit, 25 MiB. */
#define AUDIO_DEFAULT_MAX_BYTES (25u * 1024u * 1024u)
/* The original's transcription.max_audio_duration_seconds default. */
#define AUDIO_DEFAULT_MAX_SECONDS 300.0
/* CPU time one decode may use (demuxing, decoding, resampling; not the time
 * spent in the caller's sink).  An hour of 24 kb/s Opus takes 5.5 s of CPU
 * on the x86 build machine, an hour of 16 kHz MP3 1.1 s. */
#define AUDIO_DEFAULT_MAX_CPU_MS 120000
/* Bytes read to recognise the format and its streams (ffmpeg: 5 MB). */
#define AUDIO_DEFAULT_PROBE_BYTES (1 << 20)
/* Media time analysed to find the streams' parameters (ffmpeg: 5 s). */
#define AUDIO_DEFAULT_ANALYZE_US 5000000

typedef struct audio_limits {
    uint64_t max_bytes;  /* encoded input size */
    double max_seconds;  /* decoded duration (and the duration the file claims) */
    int64_t max_cpu_ms;  /* CPU budget of one decode, 0 = none */
    int64_t probe_bytes; /* format and stream probing, bytes */
    int64_t analyze_us;  /* stream probing, microseconds of media */
    bool decode_thread;  /* decode on a helper thread (default true; same samples) */
} audio_limits;

/* Fills the defaults above. */
void audio_limits_defaults(audio_limits *lim);

/* What a decode found (filled as far as it got, also on failure). */
typedef struct audio_info {
    char format[32];        /* demuxer: "wav", "mp3", "ogg", "mov,mp4,m4a,3gp,3g2,mj2"... */
    char codec[32];         /* decoder: "pcm_s16le", "mp3float", "opus"... */
    int source_rate;        /* the stream's own sample rate, Hz */
    int source_channels;    /* and channel count */
    double claimed_seconds; /* duration the container claims, -1 when it says none */
    uint64_t samples;       /* 16 kHz samples delivered to the sink */
    uint64_t frames;        /* frames decoded */
    uint64_t decode_errors; /* packets the decoder refused (damaged data) */
} audio_info;

/*
 * Receives decoded audio: n (> 0) samples at AUDIO_RATE, mono, in [-1, 1),
 * continuing the previous block.  The pointer is valid during the call only.
 * Returns 0 to go on, or a negative HDM_E_* code (with *err filled) to stop
 * the decode, which then returns that code and sentence.
 */
typedef int (*audio_sink)(void *ctx, const float *samples, size_t n, hdm_err *err);

/*
 * Decodes the encoded file data[0..len) (not copied; must stay valid during
 * the call) and calls sink with every block of samples, in order.
 * `name_hint` is a file name or extension ("speech.mp3", ".wav") that helps
 * recognise formats whose content is ambiguous, as the file name did for
 * ffmpeg in the original; NULL for none.  lim NULL means the defaults; info
 * may be NULL.
 *
 * Returns 0 when the whole stream was decoded and delivered, or:
 *   -HDM_E_BAD_REQUEST  empty input, not a recognised or supported audio
 *                       format, no audio stream, an unsupported codec, no
 *                       audio decodable, more than 2/3 of the packets damaged
 *                       (ffmpeg's own failure rule), a header that makes
 *                       libav ask for more than AUDIO_MAX_ALLOC; the sentence
 *                       names it.
 *                       A truncated file decodes what is there, as ffmpeg does.
 *   -HDM_E_TOO_LARGE    more than lim->max_bytes, or a duration (claimed or
 *                       decoded) over lim->max_seconds: "Audio file too large
 *                       (max N bytes)", "Audio duration exceeds N seconds"
 *                       (the original's sentences, extended after a colon).
 *   -HDM_E_DEADLINE_EXCEEDED  more than lim->max_cpu_ms of CPU time.
 *   -HDM_E_NOMEM, or the sink's code.
 * Samples delivered before a failure stay delivered.
 */
int audio_decode(const void *data, size_t len, const char *name_hint, const audio_limits *lim,
                 audio_sink sink, void *ctx, audio_info *info, hdm_err *err);

/*
 * Checks, without decoding any audio, what audio_decode() checks before it
 * starts: that data[0..len) is a whitelisted container with an audio
 * stream in a whitelisted codec whose decoder opens, within lim's size,
 * probing bounds and claimed duration.  Fills info as far as it got.
 * Returns 0 or the code and sentence audio_decode() would give for the
 * same problem.  A file that passes may still fail while decoding (damaged
 * packets, a duration over the limit that the header did not claim).
 * For answering a bad upload with a clean error before a response starts
 * (hailo-whisper's streams).
 */
int audio_probe(const void *data, size_t len, const char *name_hint, const audio_limits *lim,
                audio_info *info, hdm_err *err);

/*
 * The same, collecting every sample in one malloc'd array (*samples, *n;
 * the caller frees it): for short clips and tests.  On failure *samples is
 * NULL and *n 0.
 */
int audio_decode_all(const void *data, size_t len, const char *name_hint, const audio_limits *lim,
                     float **samples, size_t *n, audio_info *info, hdm_err *err);

/*
 * The file name extension (".mp3", ".wav", ".oga", ".flac", ".webm", ".m4a"...)
 * the original gave an upload of this MIME type (the part's own
 * Content-Type), for use as name_hint: Python's guess_extension() for the
 * audio types, then the original's substring fallbacks ("audio/mpeg; x" gives
 * ".mp3").  NULL when the type names no audio format (the original then
 * used ".bin", which hints nothing).
 */
const char *audio_ext_for_mime(const char *mime);

#endif
