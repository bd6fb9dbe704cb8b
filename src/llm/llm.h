/*
 * llm.h - the parts of hailo-llm and how they fit together.
 *
 * DESIGN.  hailo-llm serves the text chat models (HEFs) of one directory
 * through the Ollama API (/api/...) and the OpenAI API (/v1/...), on the device
 * manager's model type llm.  A request travels
 *
 *   routes.c (HTTP, route table)
 *      -> ollama.c (an Ollama body) or openai.c (an OpenAI body)
 *         -> llm_request (model, messages or raw prompt, tools, sampling, keep_alive)
 *      -> models.c (the model's file in the directory, by name or alias)
 *      -> pipeline.c (the manager's llm infer, run by chatapi's chat_gen_run;
 *                     tool calls parsed out of the text by toolcall.c)
 *      -> ollama_reply.c (NDJSON lines / one object) or chatapi (OpenAI shapes)
 *
 * Nothing is loaded at start: a model loads on its first request (or on
 * Ollama's empty-messages "load"), stays as keep_alive says, and the
 * manager swaps it with the VLM in the one GenAI slot when either is asked
 * for.  The keeper thread (svc/model_keeper.h) only watches that the
 * manager answers.  config.c maps the YAML file onto llm_config.  Every
 * request is validated before the manager is asked.
 */
#ifndef HDM_LLM_LLM_H
#define HDM_LLM_LLM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "chatapi/chatapi.h"
#include "common/err.h"
#include "common/yamlconf.h"
#include "hailodm.h"
#include "svc/model_keeper.h"

/* The manager's model type. */
#define LLM_MODEL_TYPE "llm"
/* The manager's limits (docs/PROTOCOL.md, llm): messages, stop strings, text. */
#define LLM_MAX_MESSAGES 256
#define LLM_MAX_STOP 16
#define LLM_MAX_STOP_LEN 256
#define LLM_MAX_TEXT (1u << 20)
#define LLM_MAX_TOOLS 64
/* Longest model name (the HEF's file name without .hef). */
#define LLM_MAX_NAME 128

/* ---- config.c ------------------------------------------------------------ */

typedef struct llm_config {
    char *host;            /* server.host, default 127.0.0.1 */
    int port;              /* server.port, default 11434 */
    int threads;           /* server.threads, default 8 */
    int max_body_bytes;    /* server.max_body_bytes, default 4 MiB */
    char *bearer_token;    /* server.bearer_token (or $HAILO_LLM_TOKEN) */
    char *socket_path;     /* manager.socket ($HAILO_DEVICE_SOCKET wins) */
    char *models_dir;      /* models.dir, default /var/lib/hailo/llm */
    int max_models;        /* models.max_models: files listed at most */
    char *keep_alive_text; /* models.keep_alive, Ollama's form ("5m", 300, -1) */
    double keep_alive;     /* the same in seconds (-1 pinned, 0 unload after use) */
    int max_tokens;        /* generation.max_tokens: cap of num_predict / max_tokens */
    int timeout_s;         /* generation.timeout_s: one generation's time limit */
    /* The original hailo-ollama's keys, loaded and not used (docs/LLM.md). */
    char *library_host;    /* library.host: hailo-ollama's model library */
    int library_port;      /* library.port */
    int main_poll_time_ms; /* main_poll_time_ms */
} llm_config;

extern const conf_key llm_config_keys[];

/* Fills the defaults.  0 or -HDM_E_NOMEM. */
int llm_config_defaults(llm_config *cfg);
/* Loads `path` over the defaults (a missing file is fine when missing_ok),
 * then $HAILO_LLM_TOKEN; checks the result. */
int llm_config_load(llm_config *cfg, const char *path, bool missing_ok, hdm_err *err);
/* Checks cross-field rules and converts keep_alive.  0 or -HDM_E_BAD_REQUEST. */
int llm_config_check(llm_config *cfg, hdm_err *err);
void llm_config_free(llm_config *cfg);

/*
 * Ollama's keep_alive: a number of seconds, or a Go duration string ("5m",
 * "1h30m", "300ms", "-1m"); anything negative is "forever" (-1).  Writes
 * seconds into *out.  0 or -HDM_E_BAD_REQUEST naming `what`.
 */
int llm_parse_keep_alive(const cJSON *v, const char *what, double *out, hdm_err *err);
int llm_parse_duration(const char *text, double *seconds);

/* ---- models.c ------------------------------------------------------------ */

typedef struct llm_model {
    char name[LLM_MAX_NAME + 1];   /* "qwen2.5-1.5b-instruct" */
    char path[PATH_MAX];           /* models.dir/<file> */
    char family[LLM_MAX_NAME + 1]; /* "qwen2.5" (the name before its size) */
    char size_label[16];           /* "1.5B", or "" when the name holds none */
    uint64_t bytes;
    int64_t mtime_ns;
    char digest[17]; /* identity of (name, size, mtime), 16 hex digits */
} llm_model;

typedef struct llm_models {
    llm_model *items; /* sorted by name */
    size_t n;
    bool truncated; /* more files than max_models */
} llm_models;

/*
 * Lists the models of cfg->models_dir: regular files (no symlinks) named
 * <name>.hef whose name is at most LLM_MAX_NAME bytes of [A-Za-z0-9._-],
 * at most cfg->max_models of them.  Names are lower-cased.  A missing or
 * unreadable directory is an empty list.  0 or -HDM_E_NOMEM.
 */
int llm_models_scan(const llm_config *cfg, llm_models *out);
void llm_models_free(llm_models *m);
/*
 * The model a request names: "name", "name:latest", or the Ollama-style
 * aliases "<name without its size>:<size>" and "<family>:<size>"
 * ("qwen2.5-instruct:1.5b", "qwen2.5:1.5b" for qwen2.5-1.5b-instruct),
 * case-insensitively; an exact name wins over an alias.  NULL when none.
 */
const llm_model *llm_models_find(const llm_models *m, const char *name);
struct llm_request;
/* The model `body` names in "model" (or the older "name"): copied into
 * r->model, the name as asked into r->asked.  -HDM_E_BAD_REQUEST when
 * missing, -HDM_E_NOT_FOUND naming the request's model and listing ours. */
int llm_lookup_model(const cJSON *body, const llm_models *models, struct llm_request *r,
                     hdm_err *err);
/* "a, b, c" (the names) into out; "(none)" for an empty directory. */
void llm_models_list_text(const llm_models *m, char *out, size_t len);
/* Ollama's details object {parent_model, format, family, families,
 * parameter_size, quantization_level}. */
cJSON *llm_model_details(const llm_model *m);
/* Splits a name into family and size label (llm_model fields). */
void llm_model_name_parts(const char *name, char *family, size_t family_len, char *size,
                          size_t size_len);

/* ---- the request both APIs become ------------------------------------- */

typedef struct llm_request {
    llm_model model;                  /* the model, copied from the scan */
    char asked[2 * LLM_MAX_NAME + 1]; /* the name as the client gave it (echoed in answers) */
    cJSON *messages; /* manager messages [{role, content, tool_calls?, tool_name?}], owned */
    char *prompt;    /* raw prompt (no template), or NULL */
    cJSON *tools;    /* manager tools, owned, or NULL */
    bool has_temperature, has_top_p, has_top_k, has_seed, has_frequency_penalty;
    double temperature, top_p, frequency_penalty;
    int top_k;
    uint32_t seed;
    int max_tokens; /* always set: the request's, capped at generation.max_tokens */
    char *stop[LLM_MAX_STOP];
    int n_stop;
    bool json; /* format json */
    bool stream;
    bool include_usage; /* OpenAI stream_options */
    double keep_alive;  /* seconds, -1 pinned, 0 unload after */
} llm_request;

void llm_request_free(llm_request *r);
/* Adds a stop string (bounded by the manager's limits, naming `what`).
 * 0, -HDM_E_BAD_REQUEST or -HDM_E_NOMEM. */
int llm_request_add_stop(llm_request *r, const char *s, const char *what, hdm_err *err);
/* Checks the text of messages, prompt and tools together against LLM_MAX_TEXT:
 * -HDM_E_TOO_LARGE naming the sizes. */
int llm_request_check_size(const llm_request *r, hdm_err *err);

/* ---- ollama.c: Ollama bodies ------------------------------------------- */

/* What an /api/chat or /api/generate body asks for. */
typedef enum llm_op { LLM_OP_GENERATE, LLM_OP_LOAD, LLM_OP_UNLOAD } llm_op;

/*
 * Parses an /api/chat body (chat true) or /api/generate body into r, the
 * model looked up in `models`.  *op says whether it is a generation or
 * Ollama's empty-messages / empty-prompt load (unload with keep_alive 0).
 * Errors: -HDM_E_BAD_REQUEST, -HDM_E_TOO_LARGE, -HDM_E_NOT_FOUND (unknown
 * model: the message lists the models), -HDM_E_NOMEM.
 */
int ollama_parse(const cJSON *body, bool chat, const llm_config *cfg, const llm_models *models,
                 llm_request *r, llm_op *op, hdm_err *err);

/* ---- openai.c: OpenAI bodies ------------------------------------------- */

/*
 * Parses a /v1/chat/completions body into r.  *param names the offending
 * parameter on failure.  Errors as ollama_parse.
 */
int openai_parse(const cJSON *body, const llm_config *cfg, const llm_models *models, llm_request *r,
                 const char **param, hdm_err *err);

/* ---- toolcall.c: tool calls in the model's text ------------------------ */

/*
 * Separates <tool_call>{"name", "arguments"}</tool_call> blocks (Qwen's and
 * Hermes' markup) from a stream of text: text outside the blocks goes to
 * `emit` as it becomes safe (a tail that may open a block is held back),
 * each complete block is parsed into a call.  A block that is not a call
 * (bad JSON, no name) is passed on as text.
 */
typedef struct toolcall_filter {
    stop_emit_fn emit;
    void *user;
    char *pending;
    size_t len, cap;
    bool inside;  /* inside <tool_call> ... */
    cJSON *calls; /* [{"function": {"name", "arguments": {}}}], or NULL */
    int failed;   /* -HDM_E_NOMEM */
} toolcall_filter;

void toolcall_init(toolcall_filter *f, stop_emit_fn emit, void *user);
/* A stop_emit_fn: feeds text (user is the filter). */
int toolcall_feed(void *filter, const char *text, size_t len);
/* End of text: emits what was held back (an unterminated block as text). */
int toolcall_flush(toolcall_filter *f);
/* Takes the calls found (NULL when none); the caller owns them. */
cJSON *toolcall_take(toolcall_filter *f);
void toolcall_free(toolcall_filter *f);
/* Ollama's calls -> OpenAI's [{id, type: "function", function: {name,
 * arguments: "<json text>"}}].  NULL on OOM. */
cJSON *toolcall_to_openai(const cJSON *calls);

/* ---- pipeline.c: the manager ------------------------------------------- */

typedef struct llm_app {
    llm_config *cfg;
    hdm_client *client;
    svc_keeper *keeper;
    double started_at; /* monotonic seconds */
    long started_wall;
} llm_app;

/*
 * One generation of r on the manager: the llm infer (streamed from the
 * manager, cancelled through cancel_fd), stop strings, tool calls separated
 * from the text when r has tools (out->tool_calls in Ollama's form, then
 * finish_reason "tool_calls").  Visible text goes to emit (may be NULL).
 * Returns 0 or a negative HDM code with err.
 */
int llm_generate(llm_app *app, const llm_request *r, stop_emit_fn emit, void *user, int cancel_fd,
                 chat_result *out, hdm_err *err);
/* Ollama's load / unload of r->model (keep_alive as r says).  0 or a code. */
int llm_load(llm_app *app, const llm_request *r, llm_op op, hdm_err *err);
/* The manager's loaded llm models of our directory, as /api/ps lists them
 * (a new {"models": [...]}) or NULL with err. */
cJSON *llm_running(llm_app *app, const llm_models *models, hdm_err *err);
/* The HTTP status of an HDM error code for the Ollama routes. */
int llm_status_for(int code);

/* ---- ollama_reply.c: Ollama's answers ---------------------------------- */

/* RFC 3339 with nanoseconds in UTC ("2025-01-31T12:00:00.123456789Z"), as Go writes it. */
void ollama_time(int64_t unix_ns, char *out, size_t len);
/* A streamed line {"model", "created_at", "message": {...}, "done": false}
 * (chat) or {... "response": text ...} (generate); tool_calls (Ollama's
 * form, borrowed) may be NULL. */
cJSON *ollama_chunk(bool chat, const char *model, const char *text, size_t len,
                    const cJSON *tool_calls);
/* The final object: done true, done_reason, durations (ns) and counts; with
 * `text` (non-streamed) the whole answer and its tool calls. */
cJSON *ollama_final(bool chat, const char *model, const chat_result *res, const char *text,
                    double total_ms);
/* {"model", "created_at", "message"/"response": "", "done": true,
 * "done_reason": "load" | "unload"}. */
cJSON *ollama_load_reply(bool chat, const char *model, llm_op op);
/* JSON + "\n" (one NDJSON line), malloc'd; NULL on OOM. */
char *ollama_line(const cJSON *obj, size_t *len);
/* /api/tags' entry and /api/show's answer for a model. */
cJSON *ollama_tag(const llm_model *m);
cJSON *ollama_show(const llm_model *m);

/* ---- routes.c ------------------------------------------------------------ */

#define LLM_MAX_ROUTES 20
struct http_route;
/* Fills `routes` (room for LLM_MAX_ROUTES). */
void llm_routes_build(struct http_route *routes);

#endif
