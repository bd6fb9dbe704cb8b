/*
 * fuzz_audio.c - arbitrary bytes through the audio front end with its
 * limits on: format probing against the whitelist, demuxing, decoding,
 * resampling to 16 kHz mono, and the windower (with the original's
 * trimming) the service feeds.  The first byte picks the file name hint.
 * Whatever the input, the decode ends with samples or a sentence, within
 * the limits, and every sample delivered is a finite value in [-1, 1).
 *
 * Seeds (corpus/fuzz_audio/seed-*): a hint byte and a tiny file of each
 * format (0.1 s of a tone, made with ffmpeg), plus truncated ones.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "audio/audio_window.h"

static int check_window(void *ctx, const float *s, size_t n, uint64_t offset, hdm_err *err)
{
    (void)err;
    uint64_t *seen = ctx;
    if (n == 0 || n > AUDIO_WINDOW_SAMPLES || offset < *seen)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= -1.0f && s[i] < 1.0f))
            abort();
    *seen = offset + n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hints[8] = {NULL,   ".mp3",  ".wav", ".ogg",
                                         ".m4a", ".webm", ".aac", "x.flac"};
    if (size < 1)
        return 0;
    audio_limits lim;
    audio_limits_defaults(&lim);
    lim.max_seconds = 120; /* a few windows */
    lim.max_cpu_ms = 3000; /* well inside libFuzzer's -timeout */
    lim.probe_bytes = 65536;
    audio_windower *w = NULL;
    uint64_t seen = 0;
    hdm_err err = {0};
    if (audio_windower_new(NULL, check_window, &seen, &w, &err) != 0)
        return 0;
    audio_info info;
    int rc = audio_decode(data + 1, size - 1, hints[data[0] & 7], &lim, audio_windower_push, w,
                          &info, &err);
    if (rc == 0) {
        if (audio_windower_finish(w, &err) != 0)
            abort();
        if (info.samples == 0 || info.samples != audio_windower_samples(w) ||
            (double)info.samples / AUDIO_RATE > lim.max_seconds)
            abort();
    } else if (err.msg[0] == '\0' || rc != -err.code) {
        abort();
    }
    audio_windower_free(w);
    return 0;
}
