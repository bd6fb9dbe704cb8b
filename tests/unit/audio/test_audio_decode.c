/*
 * test_audio_decode.c - audio_decode() on every container and codec we
 * take, sample for sample against the original's ffmpeg command, streaming
 * in bounded blocks, and each bad input with the sentence it gets.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <sys/utsname.h>

#include "audio/audio.h"
#include "audio_test_util.h"

/* Decodes a generated file with lim (NULL: defaults). */
static int decode(const char *name, const audio_limits *lim, float **s, size_t *n, audio_info *info,
                  hdm_err *err)
{
    size_t len;
    uint8_t *data = audio_file(name, &len);
    hdm_err_clear(err);
    int rc = audio_decode_all(data, len, name, lim, s, n, info, err);
    free(data);
    return rc;
}

static void no_limits(audio_limits *lim)
{
    audio_limits_defaults(lim);
    lim->max_seconds = 1e6;
}

/* ---- every format, exactly as ffmpeg decodes it --------------------------------- */

static const struct {
    const char *file, *format, *codec;
    int rate, channels;
    double seconds; /* what ffprobe says, roughly */
} formats[] = {
    {"speech.wav", "wav", "pcm_s16le", 22050, 1, 6.2},
    {"speech-44k-stereo.wav", "wav", "pcm_s16le", 44100, 2, 6.2},
    {"speech-f32.wav", "wav", "pcm_f32le", 44100, 2, 6.2},
    {"speech.mp3", "mp3", "mp3float", 44100, 2, 6.2},
    {"speech.flac", "flac", "flac", 44100, 2, 6.2},
    {"speech.ogg", "ogg", "vorbis", 44100, 2, 6.2},
    {"speech.opus", "ogg", "opus", 48000, 2, 6.2},
    {"speech.m4a", "mov,mp4,m4a,3gp,3g2,mj2", "aac", 44100, 2, 6.2},
    {"speech.webm", "matroska,webm", "opus", 48000, 2, 6.2},
    {"speech.aiff", "aiff", "pcm_s16be", 44100, 2, 6.2},
    {"speech.aac", "aac", "aac", 44100, 2, 6.2},
    {"video-audio.mp4", "mov,mp4,m4a,3gp,3g2,mj2", "aac", 44100, 2, 6.2},
    {"phrases.wav", "wav", "pcm_s16le", 16000, 1, 12.9},
    {"tone.wav", "wav", "pcm_s16le", 16000, 1, 2.0},
    {"tone.mp3", "mp3", "mp3float", 16000, 1, 2.0},
    {"silence.wav", "wav", "pcm_s16le", 16000, 1, 3.0},
    {"truncated.mp3", "mp3", "mp3float", 44100, 2, 2.5},
};

/* How many 16-bit steps a sample may be off ffmpeg's: none when the .ref
 * files were made on this kind of machine.  libswresample's kernels differ
 * between architectures (SSE on x86-64, NEON on arm64) and round a few
 * samples one step apart, so under make check-arm64 (arm64 under qemu, the
 * references from the host's ffmpeg) one step is allowed. */
static long ref_steps_allowed(void)
{
    static long allowed = -1;
    if (allowed < 0) {
        size_t len;
        char *m = (char *)audio_file("refs.machine", &len);
        struct utsname u;
        assert_int_equal(uname(&u), 0);
        size_t ml = strlen(u.machine);
        bool same = len >= ml && memcmp(m, u.machine, ml) == 0 && (len == ml || m[ml] == '\n');
        free(m);
        allowed = same ? 0 : 1;
    }
    return allowed;
}

static bool same_as_ffmpeg(float got, int16_t ref)
{
    if (got == (float)ref / 32768.0f)
        return true;
    long allowed = ref_steps_allowed();
    return allowed > 0 && fabsf(got * 32768.0f - (float)ref) <= (float)allowed;
}

static void check_against_ffmpeg(const char *file, const float *s, size_t n)
{
    char ref_name[256];
    size_t ref_len;
    snprintf(ref_name, sizeof(ref_name), "%s.ref", file);
    int16_t *ref = (int16_t *)audio_file(ref_name, &ref_len);
    if (n != ref_len / 2)
        fail_msg("%s: %zu samples, ffmpeg gives %zu", file, n, ref_len / 2);
    for (size_t i = 0; i < n; i++)
        if (!same_as_ffmpeg(s[i], ref[i]))
            fail_msg("%s: sample %zu is %.9g, ffmpeg's %.9g", file, i, s[i],
                     (float)ref[i] / 32768.0f);
    free(ref);
}

static void test_formats_match_ffmpeg(void **state)
{
    (void)state;
    audio_limits lim;
    audio_limits_defaults(&lim);
    /* Decoding on the helper thread (the default) and inline: the same samples. */
    for (size_t k = 0; k < 2 * sizeof(formats) / sizeof(formats[0]); k++) {
        audio_info info;
        hdm_err err;
        float *s;
        size_t n;
        const __typeof__(formats[0]) *fm = &formats[k / 2];
        lim.decode_thread = k % 2 == 0;
        if (decode(fm->file, &lim, &s, &n, &info, &err) != 0)
            fail_msg("%s: %s", fm->file, err.msg);
        check_against_ffmpeg(fm->file, s, n);
        assert_string_equal(info.format, fm->format);
        assert_string_equal(info.codec, fm->codec);
        assert_int_equal(info.source_rate, fm->rate);
        assert_int_equal(info.source_channels, fm->channels);
        assert_int_equal(info.samples, n);
        assert_true(info.frames > 0);
        double seconds = (double)n / AUDIO_RATE;
        if (fabs(seconds - fm->seconds) > 0.15)
            fail_msg("%s: %.3f s decoded, about %.1f expected", fm->file, seconds, fm->seconds);
        /* Level: speech and tones are heard, silence is silent, nothing clips. */
        double sum = 0, peak = 0;
        for (size_t i = 0; i < n; i++) {
            sum += (double)s[i] * s[i];
            peak = fmax(peak, fabs(s[i]));
        }
        double rms = sqrt(sum / (double)n);
        if (strcmp(fm->file, "silence.wav") == 0)
            assert_true(peak == 0.0);
        else if (rms < 0.02 || peak >= 1.0)
            fail_msg("%s: rms %.4f, peak %.4f", fm->file, rms, peak);
        free(s);
    }
}

/* The original's fixture: ffmpeg's 440 Hz sine has amplitude 1/8. */
static void test_tone_level(void **state)
{
    (void)state;
    audio_info info;
    hdm_err err;
    float *s;
    size_t n;
    assert_int_equal(decode("tone.wav", NULL, &s, &n, &info, &err), 0);
    assert_int_equal(n, 32000);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)s[i] * s[i];
    assert_true(fabs(sqrt(sum / (double)n) - 0.125 / sqrt(2.0)) < 0.001);
    assert_true(fabs(info.claimed_seconds - 2.0) < 0.01);
    free(s);
}

/* ---- streaming -------------------------------------------------------------------- */

typedef struct stream_check {
    const int16_t *ref;
    size_t ref_n, pos, calls, max_block;
    int stop_after; /* calls; 0 = never */
} stream_check;

static int stream_sink(void *ctx, const float *s, size_t n, hdm_err *err)
{
    stream_check *c = ctx;
    assert_true(n > 0);
    c->calls++;
    if (n > c->max_block)
        c->max_block = n;
    if (c->pos + n > c->ref_n)
        fail_msg("more samples than ffmpeg gives (%zu)", c->ref_n);
    for (size_t i = 0; i < n; i++)
        if (!same_as_ffmpeg(s[i], c->ref[c->pos + i]))
            fail_msg("sample %zu differs from ffmpeg's", c->pos + i);
    c->pos += n;
    if (c->stop_after && (int)c->calls == c->stop_after)
        return hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
    return 0;
}

static void test_long_file_streams_in_blocks(void **state)
{
    (void)state;
    size_t len, ref_len;
    uint8_t *data = audio_file("long-10min.mp3", &len);
    int16_t *ref = (int16_t *)audio_file("long-10min.mp3.ref", &ref_len);
    stream_check c = {.ref = ref, .ref_n = ref_len / 2};
    audio_limits lim;
    audio_info info;
    hdm_err err = {0};

    audio_limits_defaults(&lim);
    lim.max_seconds = 600.5;
    assert_int_equal(audio_decode(data, len, NULL, &lim, stream_sink, &c, &info, &err), 0);
    assert_int_equal(c.pos, c.ref_n);
    assert_int_equal(info.samples, c.ref_n);
    assert_true(c.max_block <= 8192);
    assert_true(c.calls > 600 * AUDIO_RATE / 8192);
    assert_true(fabs((double)c.pos / AUDIO_RATE - 600.0) < 0.1);

    /* The sink's error stops the decode and comes back as it was. */
    c = (stream_check){.ref = ref, .ref_n = ref_len / 2, .stop_after = 3};
    assert_int_equal(audio_decode(data, len, NULL, &lim, stream_sink, &c, &info, &err),
                     -HDM_E_CANCELLED);
    assert_string_equal(err.msg, "the client went away");
    assert_int_equal(c.calls, 3);
    free(data);
    free(ref);
}

/* ---- limits -------------------------------------------------------------------------- */

static void test_claimed_duration_refused_before_decoding(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = audio_file("claims-3h.mp3", &len);
    stream_check c = {0};
    audio_info info;
    hdm_err err = {0};

    assert_int_equal(audio_decode(data, len, NULL, NULL, stream_sink, &c, &info, &err),
                     -HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "Audio duration exceeds 300 seconds: the MP3 file says it "
                                 "lasts 10800.0 seconds");
    assert_int_equal(c.calls, 0);
    assert_true(info.claimed_seconds > 10799.0);
    free(data);

    /* The 10-minute file says it lasts 600 s: refused at 300 s before any sample. */
    data = audio_file("long-10min.mp3", &len);
    assert_int_equal(audio_decode(data, len, NULL, NULL, stream_sink, &c, &info, &err),
                     -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "Audio duration exceeds 300 seconds"));
    assert_int_equal(c.calls, 0);
    free(data);
}

static int count_sink(void *ctx, const float *s, size_t n, hdm_err *err)
{
    (void)s;
    (void)err;
    *(size_t *)ctx += n;
    return 0;
}

static void test_decoded_duration_checked_as_it_grows(void **state)
{
    (void)state;
    size_t len, got = 0;
    uint8_t *data = audio_file("speech.mp3", &len);
    audio_limits lim;
    hdm_err err = {0};

    /* 6.24 s claimed: within 5.5 s and the 1 s of slack, so decoding starts. */
    audio_limits_defaults(&lim);
    lim.max_seconds = 5.5;
    assert_int_equal(audio_decode(data, len, NULL, &lim, count_sink, &got, NULL, &err),
                     -HDM_E_TOO_LARGE);
    assert_string_equal(err.msg, "Audio duration exceeds 5.5 seconds");
    assert_true(got > 88000 && got <= 88000 + 8192);

    /* Exactly the limit is allowed (the original's `duration > max`). */
    size_t ref_len;
    free(audio_file("speech.mp3.ref", &ref_len));
    lim.max_seconds = (double)(ref_len / 2) / AUDIO_RATE;
    got = 0;
    assert_int_equal(audio_decode(data, len, NULL, &lim, count_sink, &got, NULL, &err), 0);
    assert_int_equal(got, ref_len / 2);
    free(data);
}

static void test_size_and_cpu_limits(void **state)
{
    (void)state;
    size_t len, got = 0;
    uint8_t *data = audio_file("speech.mp3", &len);
    audio_limits lim;
    hdm_err err = {0};

    audio_limits_defaults(&lim);
    lim.max_bytes = len - 1;
    assert_int_equal(audio_decode(data, len, NULL, &lim, count_sink, &got, NULL, &err),
                     -HDM_E_TOO_LARGE);
    char want[128];
    snprintf(want, sizeof(want), "Audio file too large (max %zu bytes): it has %zu bytes", len - 1,
             len);
    assert_string_equal(err.msg, want);
    free(data);

    data = audio_file("long-10min.mp3", &len);
    no_limits(&lim);
    lim.max_cpu_ms = 1;
    assert_int_equal(audio_decode(data, len, NULL, &lim, count_sink, &got, NULL, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_string_equal(err.msg, "decoding the audio took more than 1 ms of CPU time");
    free(data);
}

/* ---- bad input --------------------------------------------------------------------------- */

/* Decodes and expects the error; returns the samples delivered before it. */
static size_t expect_error(const uint8_t *data, size_t len, const audio_limits *lim, int code,
                           const char *msg_part)
{
    size_t got = 0;
    audio_info info;
    hdm_err err = {0};
    int rc = audio_decode(data, len, NULL, lim, count_sink, &got, &info, &err);
    if (rc != -code || !strstr(err.msg, msg_part))
        fail_msg("rc %d, \"%s\"; expected -%d with \"%s\"", rc, err.msg, code, msg_part);
    return got;
}

/* The same, for an input refused before any sample. */
static void expect_bad(const uint8_t *data, size_t len, const audio_limits *lim, int code,
                       const char *msg_part)
{
    assert_int_equal(expect_error(data, len, lim, code, msg_part), 0);
}

static void expect_bad_file(const char *name, int code, const char *msg_part)
{
    size_t len;
    uint8_t *data = audio_file(name, &len);
    expect_bad(data, len, NULL, code, msg_part);
    free(data);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    static const char text[] = "This is a text file, not a sound.\n";
    audio_limits lim;
    size_t len;

    expect_bad((const uint8_t *)"", 0, NULL, HDM_E_BAD_REQUEST,
               "the audio file is empty (0 bytes)");
    expect_bad((const uint8_t *)text, sizeof(text) - 1, NULL, HDM_E_BAD_REQUEST,
               "the file is not in a recognised audio format; supported: WAV, AIFF, MP3, FLAC");

    /* 50 MB of zeros: too large for the upload limit, and not audio past it. */
    uint8_t *zeros = calloc(50u << 20, 1);
    assert_non_null(zeros);
    expect_bad(zeros, 50u << 20, NULL, HDM_E_TOO_LARGE,
               "Audio file too large (max 26214400 bytes): it has 52428800 bytes");
    audio_limits_defaults(&lim);
    lim.max_bytes = 64u << 20;
    expect_bad(zeros, 50u << 20, &lim, HDM_E_BAD_REQUEST,
               "the file is not audio: its first 1048576 bytes are all zeros");
    expect_bad(zeros, 1000, NULL, HDM_E_BAD_REQUEST,
               "the file is not audio: its 1000 bytes are all zeros");
    free(zeros);

    /* Formats that open other files or URLs never run. */
    static const char concat[] = "ffconcat version 1.0\nfile '/etc/passwd'\n";
    expect_bad((const uint8_t *)concat, sizeof(concat) - 1, NULL, HDM_E_BAD_REQUEST,
               "(concat), which is not a supported audio format");
    static const char hls[] = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n"
                              "http://127.0.0.1:1/a.ts\n#EXT-X-ENDLIST\n";
    expect_bad((const uint8_t *)hls, sizeof(hls) - 1, NULL, HDM_E_BAD_REQUEST,
               "(hls), which is not a supported audio format");

    uint8_t *png = data_file("images/grey8-90.png", &len);
    expect_bad(png, len, NULL, HDM_E_BAD_REQUEST, "the file looks like piped png sequence");
    free(png);

    expect_bad_file("speech.au", HDM_E_BAD_REQUEST,
                    "the file looks like Sun AU (au), which is not a supported audio format");
    expect_bad_file("speech-ac3.mka", HDM_E_BAD_REQUEST,
                    "the Matroska/WebM file's audio codec (ATSC A/52A (AC-3)) is not supported");
    expect_bad_file("video-only.mp4", HDM_E_BAD_REQUEST,
                    "the MP4/M4A file has no audio stream (it holds 1 video, 0 subtitle and 0 "
                    "other streams)");
    expect_bad_file("truncated-head.mp3", HDM_E_BAD_REQUEST, "the MP3 file could not be read: ");
    /* ffmpeg's rule: more than 2/3 of the packets refused fails the decode, at
     * its end (what decoded was delivered). */
    uint8_t *damaged = audio_file("damaged.mp3", &len);
    assert_true(expect_error(damaged, len, NULL, HDM_E_BAD_REQUEST,
                             "the MP3 file's audio is damaged: ") > 0);
    free(damaged);
}

/* 190 bytes the fuzzer found: a WAV whose INFO chunk made the wav demuxer
 * allocate (and clear) 1.9 GB before failing.  With AUDIO_MAX_ALLOC it
 * fails at once. */
static void test_hostile_header(void **state)
{
    (void)state;
    static const uint8_t wav[] = {
        0x52, 0x49, 0x46, 0x46, 0x86, 0x06, 0x00, 0x00, 0x57, 0x41, 0x56, 0x45, 0x66, 0x6d, 0x74,
        0x20, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x40, 0x1f, 0x00, 0x00, 0x80, 0x3e,
        0x00, 0x00, 0x02, 0x00, 0x10, 0x00, 0x4c, 0x49, 0x53, 0x54, 0x1a, 0x00, 0x00, 0xe0, 0x49,
        0x4e, 0x46, 0x4f, 0x49, 0x53, 0x46, 0x54, 0x0e, 0x00, 0x00, 0x00, 0x4c, 0x61, 0x76, 0x66,
        0x35, 0x39, 0x2e, 0x32, 0x37, 0x2e, 0x31, 0x30, 0x30, 0x00, 0x64, 0x61, 0x74, 0x61, 0x40,
        0x06, 0x75, 0x73, 0x65, 0x00, 0x00, 0x00, 0x00, 0x6b, 0x05, 0x31, 0x0a, 0xc5, 0x0d, 0xb6,
        0x0f, 0xcd, 0x16, 0x54, 0xae, 0x6b, 0xe5, 0xae, 0x01, 0x7d, 0x03, 0x92, 0x08, 0xa4, 0x0c,
        0x37, 0x0f, 0xfd, 0x0f, 0xe0, 0x0e, 0x00, 0x0c, 0xb5, 0x07, 0x81, 0x02, 0x01, 0xfd, 0xdc,
        0xf7, 0xad, 0xf3, 0xf3, 0xf0, 0x01, 0xf0, 0xf3, 0xf0, 0xac, 0xf3, 0xdb, 0xf7, 0x00, 0xfd,
        0x80, 0x02, 0xb4, 0x07, 0xff, 0x0b, 0xdf, 0x0e, 0xfd, 0x0f, 0x37, 0x0f, 0xa4, 0x0c, 0x93,
        0x08, 0x7d, 0x71, 0x74, 0x20, 0x57, 0x03, 0xff, 0x71, 0x74, 0x20, 0x20, 0x04, 0x80, 0xff,
        0x1d, 0xfa, 0x4c, 0xbe, 0xf5, 0xfc, 0xf1, 0x33, 0xf0, 0x49, 0xf0, 0x3b, 0xf2, 0x00, 0x00,
        0x62, 0x90, 0x00, 0x13, 0x12, 0x00, 0xcd, 0xf5, 0x94, 0xfa};
    expect_bad(wav, sizeof(wav), NULL, HDM_E_BAD_REQUEST, "the WAV file could not be read");
}

/* A truncated MP3 decodes what is there, as ffmpeg does (checked in
 * test_formats_match_ffmpeg); here: nothing is reported as an error. */
static void test_truncated_decodes_what_is_there(void **state)
{
    (void)state;
    audio_info info;
    hdm_err err;
    float *s;
    size_t n;
    assert_int_equal(decode("truncated.mp3", NULL, &s, &n, &info, &err), 0);
    /* The header still claims the whole file. */
    assert_true(info.claimed_seconds > 5.5);
    assert_true((double)n / AUDIO_RATE < 3.0);
    free(s);
}

/* audio_probe: what audio_decode refuses from the header alone, refused the
 * same way (code and sentence) without decoding; a good file passes. */
static void probe_same(const char *name, const audio_limits *lim)
{
    size_t len;
    uint8_t *data = audio_file(name, &len);
    audio_info info;
    hdm_err perr = {0}, derr = {0};
    float *s = NULL;
    size_t n = 0;
    int p = audio_probe(data, len, name, lim, &info, &perr);
    int d = audio_decode_all(data, len, name, lim, &s, &n, NULL, &derr);
    free(s);
    free(data);
    if (p < 0 && (p != d || strcmp(perr.msg, derr.msg) != 0))
        fail_msg("%s: probe %d '%s', decode %d '%s'", name, p, perr.msg, d, derr.msg);
    if (p == 0 && (info.source_rate <= 0 || !info.codec[0]))
        fail_msg("%s: the probe filled no stream information", name);
}

static void test_probe(void **state)
{
    (void)state;
    static const char *const good[] = {"speech.wav", "speech.mp3", "speech.flac",
                                       "speech.ogg", "speech.opus", "speech.m4a",
                                       "speech.webm", "speech.aac", "video-audio.mp4"};
    static const char *const bad[] = {"speech.au", "speech-ac3.mka", "video-only.mp4",
                                      "truncated-head.mp3", "claims-3h.mp3"};
    audio_info info;
    hdm_err err = {0};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        size_t len;
        uint8_t *data = audio_file(good[i], &len);
        if (audio_probe(data, len, good[i], NULL, &info, &err) != 0)
            fail_msg("%s: %s", good[i], err.msg);
        free(data);
        probe_same(good[i], NULL);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len;
        uint8_t *data = audio_file(bad[i], &len);
        assert_true(audio_probe(data, len, bad[i], NULL, &info, &err) < 0);
        free(data);
        probe_same(bad[i], NULL);
    }
    static const char text[] = "This is a text file, not a sound.\n";
    assert_int_equal(audio_probe(text, sizeof(text) - 1, NULL, NULL, NULL, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "not in a recognised audio format"));
    assert_int_equal(audio_probe("", 0, NULL, NULL, NULL, &err), -HDM_E_BAD_REQUEST);
}

static void test_ext_for_mime(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"audio/mpeg", ".mp3"},   {"AUDIO/MPEG", ".mp3"},
        {"audio/mp3", ".mp3"},    {"audio/x-wav", ".wav"},
        {"audio/wav", ".wav"},    {"audio/wave", ".wav"},
        {"audio/ogg", ".oga"},    {"audio/ogg; codecs=opus", ".ogg"},
        {"audio/opus", ".opus"},  {"audio/flac", ".flac"},
        {"audio/webm", ".webm"},  {"video/webm", ".webm"},
        {"audio/mp4", ".m4a"},    {"video/mp4", ".mp4"},
        {"audio/aac", ".aac"},    {"audio/mpeg; x=1", ".mp3"},
        {"audio/x-aiff", ".aif"}, {"application/octet-stream", NULL},
        {"image/png", NULL},      {"", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = audio_ext_for_mime(cases[i][0]);
        if (cases[i][1] ? !got || strcmp(got, cases[i][1]) : got != NULL)
            fail_msg("%s gives %s, not %s", cases[i][0], got ? got : "NULL",
                     cases[i][1] ? cases[i][1] : "NULL");
    }
    assert_null(audio_ext_for_mime(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_match_ffmpeg),
        cmocka_unit_test(test_tone_level),
        cmocka_unit_test(test_long_file_streams_in_blocks),
        cmocka_unit_test(test_claimed_duration_refused_before_decoding),
        cmocka_unit_test(test_decoded_duration_checked_as_it_grows),
        cmocka_unit_test(test_size_and_cpu_limits),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_hostile_header),
        cmocka_unit_test(test_truncated_decodes_what_is_there),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_ext_for_mime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
