/*
 * whisper.h - the parts of hailo-whisper (OpenAI-compatible speech to text
 * over the device manager's Whisper model) and how they fit together.
 *
 * DESIGN.  A request travels
 *
 *   routes.c (HTTP, errors in the original's shape)
 *     -> form.c (the multipart fields, checked before any work)
 *     -> pipeline.c: the upload decoded in place by src/audio (any container,
 *        16 kHz mono float32, streamed in blocks), cut into 30-s windows,
 *        each window one binary float32 tensor to the manager (`whisper`),
 *        the segments stitched with absolute times (src/audio/transcript)
 *     -> transcript_render (json, text, srt, verbose_json, vtt) in routes.c,
 *        or stream.c (OpenAI's transcript.text.delta / .done events).
 *
 * model.c keeps the model registered in a background thread (svc_keeper)
 * and answers the readiness question; config.c maps the original's YAML
 * keys (and ours) onto whisper_config.  At most
 * transcription.max_concurrent transcriptions decode and infer at once;
 * others wait for a slot (a bounded number; beyond it 503), so memory stays
 * bounded whatever the traffic.  A client that hangs up cancels its
 * remaining windows: the decode stops at the next block and the manager
 * call in flight is abandoned through libhailodm's cancel descriptor.
 */
#ifndef HDM_WHISPER_WHISPER_H
#define HDM_WHISPER_WHISPER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "audio/transcript.h"
#include "common/err.h"
#include "common/yamlconf.h"
#include "hailodm.h"
#include "http/http.h"
#include "svc/model_keeper.h"

#define WHISPER_SERVICE_NAME "hailo-whisper"
#define WHISPER_DEFAULT_CONFIG "/etc/hailo/hailo-whisper.yaml"
/* The manager's model type. */
#define WHISPER_MODEL_TYPE "whisper"
/* The original's upload limit (MAX_UPLOAD_BYTES), and what its aiohttp
 * allowed for the whole body besides (client_max_size = limit + 1 MiB). */
#define WHISPER_DEFAULT_MAX_FILE_BYTES (25 * 1024 * 1024)
#define WHISPER_BODY_OVERHEAD (1024 * 1024)
/* With model.keep_alive 0 the model is unloaded after the request's last
 * window; the windows before it keep it resident this long meanwhile. */
#define WHISPER_KEEP_BETWEEN_WINDOWS_S 60

/* ---- config.c ---------------------------------------------------------- */

typedef struct whisper_config {
    /* The original's keys (ORIGINAL-SERVICES.md §5.2). */
    char *host;                /* server.host (ours: 127.0.0.1; the original's 0.0.0.0) */
    int port;                  /* server.port, 11437 */
    char *model_name;          /* model.name: the only `model` value accepted */
    char *model_variant;       /* model.variant: loads, unused (as in the original) */
    double keep_alive;         /* model.keep_alive: -1 resident, 0 unload after each
                                * request, N: unload after N idle seconds */
    char *language;            /* transcription.language: default language; NULL,
                                * "", "null" or "auto": detected by the model */
    double temperature;        /* transcription.temperature: echoed in segments */
    int beam_size;             /* transcription.beam_size: loads, unused (as the original) */
    bool vad_filter;           /* transcription.vad_filter: the original's silence trim */
    double max_seconds;        /* transcription.max_audio_duration_seconds */
    char *cache_dir;           /* storage.cache_dir: loads, unused (no temporary files) */
    char *resources_dir;       /* storage.resources_dir: loads, unused */
    char *memory_max;          /* resource_limits.memory_max: the unit's business */
    char *cpu_quota;           /* resource_limits.cpu_quota: the unit's business */
    /* Ours. */
    int threads;               /* server.threads: HTTP handler threads */
    char *bearer_token;        /* server.bearer_token, or $HAILO_WHISPER_TOKEN */
    char *manager_socket;      /* manager.socket ($HAILO_DEVICE_SOCKET wins) */
    int request_timeout_s;     /* manager.request_timeout_s: one window's round trip */
    char *hef_path;            /* model.hef_path: the Speech2Text HEF */
    int max_file_bytes;        /* transcription.max_file_bytes: one upload (25 MiB) */
    int max_concurrent;        /* transcription.max_concurrent: decoding/inferring at once */
    int max_waiting;           /* transcription.max_waiting: waiting for a slot, then 503 */
    int max_decode_ms;         /* audio.max_decode_ms: CPU time of one decode */
} whisper_config;

extern const conf_key whisper_config_keys[];

/* Fills the defaults.  Returns 0 or -HDM_E_NOMEM. */
int whisper_config_defaults(whisper_config *cfg);
/*
 * Loads `path` over the defaults (a missing file is fine when missing_ok),
 * then $HAILO_WHISPER_TOKEN.  Errors read "file:line: message".  Does not
 * check: call whisper_config_check after applying flags.
 */
int whisper_config_load(whisper_config *cfg, const char *path, bool missing_ok, hdm_err *err);
/* Cross-field checks.  0 or -HDM_E_BAD_REQUEST naming the key. */
int whisper_config_check(const whisper_config *cfg, hdm_err *err);
/* A language code the manager takes: 1 to 15 letters, '-' or '_'. */
bool whisper_language_code_ok(const char *s);
/* The default language to send: NULL when the config asks for detection. */
const char *whisper_config_language(const whisper_config *cfg);
void whisper_config_free(whisper_config *cfg);

/* ---- form.c ------------------------------------------------------------ */

/* A checked transcription or translation request.  Strings are malloc'd;
 * `file` points into the request body (valid during the handler or the
 * stream producer). */
typedef struct whisper_request {
    const http_part *file;    /* the upload, in place */
    const char *name_hint;    /* format hint: from the part's type, else its filename */
    char *model;
    char *language;           /* NULL: none given (then the config's, else detection) */
    char *prompt;             /* accepted and ignored (Speech2Text takes none) */
    enum transcript_format format;
    bool translate;           /* /v1/audio/translations */
    bool stream;              /* stream=true: server-sent events */
} whisper_request;

/*
 * Reads and checks the fields of a multipart form, in the original's order:
 * file present and non-empty, model present and the configured name, file
 * no larger than transcription.max_file_bytes; then response_format (json
 * by default; an unknown one is refused), timestamp_granularities[]
 * ("segment"; "word" is refused: Speech2Text gives segment times only),
 * language (a language code; "auto" means detect), stream (a boolean),
 * temperature (parsed as the original did and ignored).  Fields nobody
 * knows are ignored, as the original and OpenAI ignore them.
 * Returns 0, or an HTTP status (400, 413) with err's sentence naming the
 * field.  Free the request with whisper_request_free either way.
 */
int whisper_request_parse(const http_form *form, const whisper_config *cfg, bool translate,
                          whisper_request *out, hdm_err *err);
void whisper_request_free(whisper_request *r);

/* ---- model.c ----------------------------------------------------------- */

typedef struct svc_keeper whisper_model;

/* Starts the registration thread: load_model (whisper, model.hef_path,
 * model.keep_alive), or only pings with keep_alive 0.  0 or negative. */
int whisper_model_start(const whisper_config *cfg, hdm_client *client, whisper_model **out);
/* At exit svc_keeper_release unloads a pinned model (keep_alive -1); a
 * request's failure goes to svc_keeper_report. */

/* ---- pipeline.c -------------------------------------------------------- */

typedef struct whisper_app {
    const whisper_config *cfg;
    hdm_client *client;
    whisper_model *model;
    double started_at;        /* monotonic, for uptime */
    time_t started_wall;      /* for /v1/models "created" */
    atomic_ullong transcriptions; /* answered successfully */
    /* The transcription gate. */
    pthread_mutex_t gate_mu;
    pthread_cond_t gate_cv;
    int active, waiting;
} whisper_app;

/* Sets up the gate.  0 or -HDM_E_INTERNAL. */
int whisper_app_init(whisper_app *app, const whisper_config *cfg);
void whisper_app_free(whisper_app *app);

/*
 * Called after each window with the whole transcript so far; segments
 * [first, tr->n) are new.  Returns 0, or a negative HDM_E_* (err set) to
 * stop the transcription (the stream's client went away).
 */
typedef int (*whisper_segments_fn)(void *user, const transcript *tr, size_t first, hdm_err *err);

typedef struct whisper_job {
    /* in */
    const uint8_t *data;      /* the encoded upload (not copied) */
    size_t len;
    const char *name_hint;    /* file name or extension, may be NULL */
    const char *language;     /* NULL: the model detects it */
    bool translate;
    int cancel_fd;            /* readable once the client hung up; -1: none */
    whisper_segments_fn on_segments; /* may be NULL */
    void *user;
    /* out */
    transcript tr;
    double duration;          /* decoded seconds, before any trimming */
    unsigned windows;         /* windows sent to the model */
} whisper_job;

/*
 * Transcribes (or translates) job->data: waits for a slot, decodes and
 * windows the audio, one manager call per window, stitches the segments
 * into job->tr.  Returns 0, or:
 *   -HDM_E_BAD_REQUEST / -HDM_E_TOO_LARGE  the audio itself (err says why:
 *       not audio, damaged, over the size or duration limit);
 *   -HDM_E_DEADLINE_EXCEEDED  the decode's CPU budget;
 *   -HDM_E_BUSY  too many transcriptions waiting for a slot;
 *   -HDM_E_CANCELLED  the client went away (cancel_fd) or the callback stopped;
 *   the manager's code with its sentence otherwise.
 * Free job->tr with whisper_job_free either way.
 */
int whisper_transcribe(whisper_app *app, whisper_job *job, hdm_err *err);
void whisper_job_free(whisper_job *job);
/*
 * What whisper_transcribe would refuse about the file without decoding it
 * (audio_probe: not audio, no audio stream, an unsupported codec, a claimed
 * duration over the limit), with the same codes and sentences.  Streams
 * call it first so such a file gets a plain error instead of a stream.
 */
int whisper_probe(const whisper_app *app, const uint8_t *data, size_t len, const char *name_hint,
                  hdm_err *err);
/* The language verbose_json reports: the one asked for, "auto" when
 * detected (as the original), "english" for a translation (OpenAI's). */
const char *whisper_reported_language(const whisper_job *job);

/* ---- stream.c ---------------------------------------------------------- */

/*
 * Answers `req` (already parsed, stream=true) as server-sent events: the
 * transcription runs on the stream's thread and each window's new segments
 * go out as transcript.text.delta events, then one transcript.text.done;
 * a failure after the start is an {"error": {...}} event.  `language` is
 * what the model is told (NULL: detect; the config's or req->language).
 * Takes `req` over (its strings are freed with the stream).  Returns 0, or
 * -HDM_E_NOMEM (then req is freed and the caller answers 500).
 */
int whisper_stream_start(http_request *hr, whisper_app *app, whisper_request *req,
                         const char *language);
/* One "data: {...}\n\n" event for a JSON text; malloc'd, *len set; NULL when out of memory. */
char *whisper_sse_event(const char *json, size_t *len);

/* ---- routes.c ---------------------------------------------------------- */

/* A request's hang-up turned into a readable eventfd (for libhailodm and the
 * decode), as hailo-vision does it. */
typedef struct whisper_cancel {
    http_request *hr;
    int fd; /* -1 when no eventfd could be made (then nothing is cancelled) */
} whisper_cancel;
void whisper_cancel_begin(whisper_cancel *c, http_request *hr);
void whisper_cancel_end(whisper_cancel *c);

/* The route table ({NULL}-terminated); the handlers expect a whisper_app. */
extern const http_route whisper_routes[];
/* The layer's own errors in the original's shapes (aiohttp's text 404/405,
 * the original's 415 sentence, {"error": {"message", "type"}}). */
void whisper_layer_error(int status, const char *message, http_reply *reply);
/* The HTTP status and OpenAI error type of a failed transcription. */
int whisper_failure_status(int code);
/* {"error": {"message": ..., "type": ...}} printed as json.dumps (malloc'd, or NULL). */
char *whisper_error_json(int status, const char *message);

#endif
