/*
 * infer_input.h - parsing a request's `input_data` into the typed
 * infer_input of backend.h, and checking `model_params`, per model type
 * (docs/PROTOCOL.md, "Model types").
 *
 * Everything a client controls is bounded by the INPUT_MAX_* limits below;
 * every message names the offending field.  Paths in model_params go through
 * the allowlist before anything touches the file.
 */
#ifndef HDM_MANAGER_INFER_INPUT_H
#define HDM_MANAGER_INFER_INPUT_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/frame.h"
#include "common/paths.h"
#include "job.h"
#include "modelpath.h"

#define INPUT_MAX_MESSAGES 256                       /* chat messages per request */
#define INPUT_MAX_PARTS 64                           /* content parts per message */
#define INPUT_MAX_TEXT (1u << 20)                    /* bytes of prompt text in total */
#define INPUT_MAX_FRAMES 16                          /* VLM images per request */
#define INPUT_MAX_CROPS 1024                         /* OCR recognition crops */
#define INPUT_MAX_STOP 16                            /* stop strings */
#define INPUT_MAX_STOP_LEN 256                       /* bytes per stop string */
#define INPUT_MAX_AUDIO_SAMPLES (16000u * 60u * 30u) /* 30 minutes at 16 kHz */
#define INPUT_MAX_MAX_TOKENS 16384                   /* max_generated_tokens */
#define INPUT_MAX_LANGS 64                           /* OCR recognition languages */
#define INPUT_MAX_TOOLS 64                           /* llm tools per request */
#define INPUT_MAX_TOOL_CALLS 16                      /* llm tool calls per message */
#define INPUT_MAX_TOOL_NAME 64                       /* bytes of a tool's name */
#define INPUT_MAX_SEED 4294967294.0                  /* llm seed: HailoRT's uint32, less "random" */

/*
 * Parses input_data for j->kind into j->input.  Tensors decoded from base64
 * are added to j->owned; tensors from attachments point into `att` (which
 * must live as long as the job: j->request_frame).  Returns 0 or a negative
 * code with err->msg naming the field.  On failure j->input is left cleared
 * (owned blocks stay on j->owned, freed with the job).
 */
int infer_input_parse(job *j, const cJSON *input_data, const frame_attachment *att, uint32_t n_att,
                      hdm_err *err);

/* Frees what infer_input_parse allocated inside *in (not tensor data, which
 * belongs to the job's owned blocks or request frame). */
void infer_input_clear(infer_input *in);

/*
 * The canonical path for `path` (request field `what`): remembered by res,
 * or opened confined (modelpath_open, answering "<what> not found: <path>"
 * for a missing or forbidden file), and then remembered on j's aliases.
 * 0 and a malloc'd *out, or a negative code with err.
 */
int infer_resolve_path(const modelpath_resolver *res, job *j, const char *path, const char *what,
                       const char *missing, char **out, hdm_err *err);

/*
 * Checks model_params for j->kind and fills the job's model fields
 * (clip_*, ocr_*), resolving every path through `res`.  With `required`
 * false (infer), a missing model_params is accepted (the model may already be
 * resident); present ones are checked all the same.  Returns 0 or a negative
 * code: "model_params.image_hef_path required", not_found, bad_request.
 */
int infer_model_params_check(job *j, const cJSON *model_params, const modelpath_resolver *res,
                             bool required, hdm_err *err);


#endif
