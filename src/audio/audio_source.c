/*
 * audio_source.c - libavformat over the caller's memory, with every input
 * limit.  See audio_source.h.
 *
 * DESIGN: libavformat is given a custom AVIOContext reading the upload in
 * place, and an io_open callback that refuses everything, so no demuxer can
 * open a second file or a URL whatever the input says (mov references, HLS,
 * concat lists); the protocol whitelist is empty for good measure.  The
 * format is probed as avformat_open_input() would (av_probe_input_buffer2,
 * the file name as a hint, as ffmpeg had one), and refused before any
 * demuxer reads a header unless it is on our list; the decoders libav may
 * open while probing streams are limited the same way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>

#include "audio_source.h"

/* Size of the reader's buffer. */
#define IO_BUFFER 32768
/* At most this many streams in a container (libav's default is 1000). */
#define MAX_STREAMS "32"
/* Slack on a claimed duration read from headers (encoder delay and padding). */
#define CLAIM_SLACK_S 1.0
/* A duration only estimated from the bitrate is refused past this factor. */
#define CLAIM_BITRATE_FACTOR 2.0

/* Demuxers that may run, with the name sentences use. */
static const struct {
    const char *name; /* AVInputFormat.name */
    const char *label;
} demuxers[] = {
    {"wav", "WAV"},
    {"aiff", "AIFF"},
    {"mp3", "MP3"},
    {"flac", "FLAC"},
    {"ogg", "Ogg"},
    {"mov,mp4,m4a,3gp,3g2,mj2", "MP4/M4A"},
    {"matroska,webm", "Matroska/WebM"},
    {"aac", "AAC"},
};
#define DEMUXER_WHITELIST "wav,aiff,mp3,flac,ogg,mov,matroska,aac"

/* ---- libav's log ----------------------------------------------------------------- */

static __thread char last_line[256];
static __thread char reason_buf[320];
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

/* libav is kept silent (library code never logs); its last error line per
 * thread is kept for error sentences. */
static void log_callback(void *avcl, int level, const char *fmt, va_list vl)
{
    (void)avcl;
    if (level > AV_LOG_ERROR)
        return;
    vsnprintf(last_line, sizeof(last_line), fmt, vl);
    size_t n = strlen(last_line);
    while (n > 0 && (last_line[n - 1] == '\n' || last_line[n - 1] == '\r' ||
                     last_line[n - 1] == ' ' || last_line[n - 1] == '.'))
        last_line[--n] = '\0';
}

/* Once per process: see audio.h. */
static void process_setup(void)
{
    av_log_set_callback(log_callback);
    av_max_alloc(AUDIO_MAX_ALLOC);
}

int audio_source_nomem(const audio_source *s, hdm_err *err)
{
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "the %s file could not be read: it asks for more than %u MiB of memory "
                       "at once (a damaged or hostile header)",
                       s->format_label[0] ? s->format_label : "audio", AUDIO_MAX_ALLOC >> 20);
}

const char *audio_source_reason(int averr)
{
    if (last_line[0]) {
        snprintf(reason_buf, sizeof(reason_buf), "%s", last_line);
    } else if (av_strerror(averr, reason_buf, sizeof(reason_buf)) < 0) {
        snprintf(reason_buf, sizeof(reason_buf), "libav error %d", averr);
    }
    return reason_buf;
}

/* ---- CPU budget ------------------------------------------------------------------- */

static int64_t clock_ms(clockid_t id, bool *ok)
{
    struct timespec ts;
    *ok = clock_gettime(id, &ts) == 0;
    return *ok ? (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 : 0;
}

int64_t audio_source_cpu_ms(void)
{
    bool ok;
    return clock_ms(CLOCK_THREAD_CPUTIME_ID, &ok);
}

void audio_source_add_thread(audio_source *s)
{
    int i = atomic_load(&s->n_clocks);
    bool ok;
    if (i >= 2 || pthread_getcpuclockid(pthread_self(), &s->clocks[i]) != 0)
        return;
    s->clock_start_ms[i] = clock_ms(s->clocks[i], &ok);
    atomic_store(&s->clock_last_ms[i], s->clock_start_ms[i]);
    atomic_store(&s->n_clocks, i + 1); /* publishes clocks[i] to the other thread */
}

void audio_source_exclude_cpu(audio_source *s, int64_t ms)
{
    if (ms > 0)
        atomic_fetch_add(&s->excluded_ms, ms);
}

static bool budget_spent(audio_source *s)
{
    if (atomic_load(&s->over_budget))
        return true;
    if (s->max_cpu_ms <= 0)
        return false;
    int64_t used = -atomic_load(&s->excluded_ms);
    int n = atomic_load(&s->n_clocks);
    for (int i = 0; i < n; i++) {
        bool ok;
        int64_t now = clock_ms(s->clocks[i], &ok);
        if (ok)
            atomic_store(&s->clock_last_ms[i], now);
        else
            now = atomic_load(&s->clock_last_ms[i]);
        used += now - s->clock_start_ms[i];
    }
    if (used > s->max_cpu_ms)
        atomic_store(&s->over_budget, true);
    return atomic_load(&s->over_budget);
}

int audio_source_check_budget(audio_source *s, hdm_err *err)
{
    if (budget_spent(s))
        return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED,
                           "decoding the audio took more than %lld ms of CPU time",
                           (long long)s->max_cpu_ms);
    return 0;
}

void audio_source_cancel(audio_source *s)
{
    atomic_store(&s->cancelled, true);
}

bool audio_source_cancelled(audio_source *s)
{
    return atomic_load(&s->cancelled);
}

int audio_source_read_failed(audio_source *s, int averr, hdm_err *err)
{
    if (atomic_load(&s->cancelled))
        return hdm_err_set(err, HDM_E_CANCELLED, "the audio decode was abandoned");
    if (atomic_load(&s->over_budget) || averr == AVERROR_EXIT)
        return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED,
                           "decoding the audio took more than %lld ms of CPU time",
                           (long long)s->max_cpu_ms);
    if (averr == AVERROR(ENOMEM))
        return audio_source_nomem(s, err);
    return 0;
}

/* libav polls this in its longer loops (stream probing). */
static int interrupt_cb(void *opaque)
{
    audio_source *s = opaque;
    return atomic_load(&s->cancelled) || budget_spent(s) ? 1 : 0;
}

/* ---- the memory reader ---------------------------------------------------------- */

static int mem_read(void *opaque, uint8_t *buf, int size)
{
    audio_source *s = opaque;
    if (atomic_load(&s->cancelled) || budget_spent(s))
        return AVERROR_EXIT;
    if (s->pos >= s->len)
        return AVERROR_EOF;
    size_t n = s->len - s->pos < (size_t)size ? s->len - s->pos : (size_t)size;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
    audio_source *s = opaque;
    int64_t base;

    if (whence & AVSEEK_SIZE)
        return (int64_t)s->len;
    switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = (int64_t)s->pos;
        break;
    case SEEK_END:
        base = (int64_t)s->len;
        break;
    default:
        return AVERROR(EINVAL);
    }
    if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0 ||
        (uint64_t)(base + offset) > s->len)
        return AVERROR(EINVAL);
    s->pos = (size_t)(base + offset);
    return (int64_t)s->pos;
}

/* No demuxer may open anything else: another file, a URL, a playlist entry. */
static int deny_open(AVFormatContext *ic, AVIOContext **pb, const char *url, int flags,
                     AVDictionary **options)
{
    (void)ic;
    (void)pb;
    (void)url;
    (void)flags;
    (void)options;
    return AVERROR(EPERM);
}

/* ---- whitelists ------------------------------------------------------------------- */

static const char *demuxer_label(const AVInputFormat *fmt)
{
    for (size_t i = 0; i < sizeof(demuxers) / sizeof(demuxers[0]); i++)
        if (strcmp(fmt->name, demuxers[i].name) == 0)
            return demuxers[i].label;
    return NULL;
}

bool audio_source_decoder_allowed(const char *name)
{
    const char *p = AUDIO_SOURCE_DECODERS;
    size_t n = strlen(name);
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int not_audio(const audio_source *s, const AVInputFormat *fmt, int64_t probe_bytes,
                     hdm_err *err)
{
    size_t head = s->len < (uint64_t)probe_bytes ? s->len : (size_t)probe_bytes;
    if (all_zero(s->data, head))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the file is not audio: %s%zu bytes are all zeros",
                           head == s->len ? "its " : "its first ", head);
    if (fmt)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the file looks like %s (%s), which is not a supported audio "
                           "format; supported: %s",
                           fmt->long_name ? fmt->long_name : fmt->name, fmt->name,
                           AUDIO_SOURCE_FORMATS_TEXT);
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "the file is not in a recognised audio format; supported: %s",
                       AUDIO_SOURCE_FORMATS_TEXT);
}

/* ---- opening ---------------------------------------------------------------------- */

/* The audio stream ffmpeg maps for an audio output: most channels, then
 * streams that had packets while probing, then default ones; first wins. */
static int pick_stream(const AVFormatContext *ic)
{
    int best = -1;
    long long best_score = 0;
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        const AVStream *st = ic->streams[i];
        if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO)
            continue;
        long long score = st->codecpar->ch_layout.nb_channels +
                          100000000LL * !!(st->event_flags & AVSTREAM_EVENT_FLAG_NEW_PACKETS) +
                          5000000LL * !!(st->disposition & AV_DISPOSITION_DEFAULT);
        if (score > best_score) {
            best_score = score;
            best = (int)i;
        }
    }
    return best;
}

static int no_audio_stream(const audio_source *s, hdm_err *err)
{
    unsigned video = 0, subtitle = 0, other = 0;
    for (unsigned i = 0; i < s->ic->nb_streams; i++) {
        enum AVMediaType t = s->ic->streams[i]->codecpar->codec_type;
        if (t == AVMEDIA_TYPE_VIDEO)
            video++;
        else if (t == AVMEDIA_TYPE_SUBTITLE)
            subtitle++;
        else
            other++;
    }
    if (s->ic->nb_streams == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "the %s file has no audio stream",
                           s->format_label);
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "the %s file has no audio stream (it holds %u video, %u subtitle and "
                       "%u other streams)",
                       s->format_label, video, subtitle, other);
}

/* The duration the container states, -1 when it states none. */
static double claimed_seconds(const AVFormatContext *ic, const AVStream *st)
{
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0 && st->time_base.num > 0 &&
        st->time_base.den > 0)
        return (double)st->duration * av_q2d(st->time_base);
    if (ic->duration != AV_NOPTS_VALUE && ic->duration > 0)
        return (double)ic->duration / AV_TIME_BASE;
    return -1;
}

static int check_claim(audio_source *s, const audio_limits *lim, audio_info *info, hdm_err *err)
{
    const AVStream *st = s->ic->streams[s->stream];
    double claim = claimed_seconds(s->ic, st);
    info->claimed_seconds = claim;
    if (claim < 0)
        return 0;
    bool estimated = s->ic->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE;
    double allowed =
        estimated ? lim->max_seconds * CLAIM_BITRATE_FACTOR : lim->max_seconds + CLAIM_SLACK_S;
    if (claim > allowed)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "Audio duration exceeds %g seconds: the %s file %s %.1f seconds",
                           lim->max_seconds, s->format_label,
                           estimated ? "would last about" : "says it lasts", claim);
    return 0;
}

int audio_source_open(audio_source *s, const void *data, size_t len, const char *name_hint,
                      const audio_limits *lim, audio_info *info, hdm_err *err)
{
    const AVInputFormat *fmt = NULL;
    AVDictionary *opts = NULL;
    const char *label;
    uint8_t *iobuf = NULL;
    char num[32];
    int rc;

    memset(s, 0, sizeof(*s));
    s->stream = -1;
    s->data = data;
    s->len = len;
    s->max_cpu_ms = lim->max_cpu_ms;
    audio_source_add_thread(s);
    pthread_once(&setup_once, process_setup);
    last_line[0] = '\0';

    if (len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "the audio file is empty (0 bytes)");
    if (len > lim->max_bytes)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "Audio file too large (max %llu bytes): it has %zu bytes",
                           (unsigned long long)lim->max_bytes, len);

    int64_t probe = lim->probe_bytes < 2048 ? 2048 : lim->probe_bytes;
    iobuf = av_malloc(IO_BUFFER);
    if (!iobuf)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    s->pb = avio_alloc_context(iobuf, IO_BUFFER, 0, s, mem_read, NULL, mem_seek);
    if (!s->pb) {
        av_free(iobuf);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }

    /* Recognise the format as avformat_open_input() would, and refuse it
     * before its demuxer reads anything unless it is on the list. */
    rc = av_probe_input_buffer2(s->pb, &fmt, name_hint ? name_hint : "", NULL, 0,
                                (unsigned)(probe > (1 << 30) ? (1 << 30) : probe));
    if (rc < 0 && atomic_load(&s->over_budget))
        return audio_source_check_budget(s, err);
    if (rc == AVERROR(ENOMEM))
        return audio_source_nomem(s, err);
    if (rc < 0 || !fmt)
        return not_audio(s, NULL, probe, err);
    if (!(label = demuxer_label(fmt)))
        return not_audio(s, fmt, probe, err);
    snprintf(s->format_label, sizeof(s->format_label), "%s", label);
    snprintf(info->format, sizeof(info->format), "%s", fmt->name);

    s->ic = avformat_alloc_context();
    if (!s->ic)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    s->ic->pb = s->pb;
    s->ic->io_open = deny_open;
    s->ic->interrupt_callback.callback = interrupt_cb;
    s->ic->interrupt_callback.opaque = s;
    av_dict_set(&opts, "format_whitelist", DEMUXER_WHITELIST, 0);
    av_dict_set(&opts, "codec_whitelist", AUDIO_SOURCE_DECODERS, 0);
    av_dict_set(&opts, "protocol_whitelist", "", 0);
    av_dict_set(&opts, "max_streams", MAX_STREAMS, 0);
    snprintf(num, sizeof(num), "%lld", (long long)probe);
    av_dict_set(&opts, "probesize", num, 0);
    av_dict_set(&opts, "formatprobesize", num, 0);
    snprintf(num, sizeof(num), "%lld", (long long)lim->analyze_us);
    av_dict_set(&opts, "analyzeduration", num, 0);
    rc = avformat_open_input(&s->ic, name_hint ? name_hint : "", fmt, &opts);
    av_dict_free(&opts);
    if (rc < 0) {
        /* avformat_open_input() freed the context on failure (not our reader). */
        if (atomic_load(&s->over_budget))
            return audio_source_check_budget(s, err);
        if (rc == AVERROR(ENOMEM))
            return audio_source_nomem(s, err);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "the %s file could not be read: %s",
                           s->format_label, audio_source_reason(rc));
    }

    /* ffmpeg goes on without stream parameters as long as there are streams. */
    rc = avformat_find_stream_info(s->ic, NULL);
    if (atomic_load(&s->over_budget))
        return audio_source_check_budget(s, err);
    if (rc < 0 && s->ic->nb_streams == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "the %s file could not be read: %s",
                           s->format_label, audio_source_reason(rc));

    s->stream = pick_stream(s->ic);
    if (s->stream < 0)
        return no_audio_stream(s, err);
    for (unsigned i = 0; i < s->ic->nb_streams; i++)
        if ((int)i != s->stream)
            s->ic->streams[i]->discard = AVDISCARD_ALL;
    const AVCodecParameters *par = s->ic->streams[s->stream]->codecpar;
    info->source_rate = par->sample_rate;
    info->source_channels = par->ch_layout.nb_channels;
    return check_claim(s, lim, info, err);
}

void audio_source_close(audio_source *s)
{
    if (s->ic)
        avformat_close_input(&s->ic);
    if (s->pb) {
        av_freep(&s->pb->buffer);
        avio_context_free(&s->pb);
    }
}
