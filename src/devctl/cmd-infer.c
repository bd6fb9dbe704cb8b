/*
 * cmd-infer.c - infer TYPE PATH: tensors from .npy or raw files, a prompt
 * for the language models (optionally streamed), and a readable summary of
 * the result (or the whole answer with --json, or the tensor saved with --out).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/tensor.h"
#include "devctl/devctl.h"
#include "common/npy.h"
#include "devctl/tensorfile.h"

#define MAX_TENSORS 16

typedef struct infer_opts {
    const char *files[MAX_TENSORS];
    int n_files;
    hdm_dtype dtype;
    int ndim;
    int64_t shape[HDM_MAX_DIMS];
    const char *mode, *prompt, *field, *out_path;
    cJSON *params, *input;
    bool stream;
    double keep_alive;
    long max_tokens;
} infer_opts;

/* Where a model type takes its tensor (PROTOCOL.md's model table). */
static const struct {
    const char *type;
    const char *field;
    bool list;
} tensor_fields[] = {
    {"clip", "tensor", false},    {"depth", "input", false},   {"pose", "input", false},
    {"ocr", "image", false},      {"whisper", "audio", false}, {"vlm", "frames", true},
    {"vlm_chat", "frames", true},
};

static int is_genai(const char *type)
{
    return strcmp(type, "vlm") == 0 || strcmp(type, "vlm_chat") == 0 || strcmp(type, "llm") == 0;
}

static int parse_opts(infer_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"tensor", required_argument, NULL, 'T'},
        {"dtype", required_argument, NULL, 'd'},
        {"shape", required_argument, NULL, 's'},
        {"mode", required_argument, NULL, 'm'},
        {"prompt", required_argument, NULL, 'p'},
        {"stream", no_argument, NULL, 'S'},
        {"params", required_argument, NULL, 'P'},
        {"input", required_argument, NULL, 'I'},
        {"field", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"keep-alive", required_argument, NULL, 'k'},
        {"max-tokens", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const devctl_cmd *cmd = &devctl_cmd_infer;
    int c;
    while ((c = getopt_long(argc, argv, "T:d:s:m:p:SP:I:f:o:k:n:", opts, NULL)) != -1) {
        hdm_err err = {0};
        char *end;
        switch (c) {
        case 'T':
            if (o->n_files == MAX_TENSORS)
                return devctl_usage(cmd, "at most %d --tensor files", MAX_TENSORS);
            o->files[o->n_files++] = optarg;
            break;
        case 'd':
            if (hdm_dtype_parse(optarg, &o->dtype) < 0)
                return devctl_usage(cmd,
                                    "unknown --dtype %s (uint8, int8, uint16, int16, int32, "
                                    "float16, float32)",
                                    optarg);
            break;
        case 's':
            if (tensorfile_parse_shape(optarg, o->shape, &o->ndim, &err) < 0)
                return devctl_usage(cmd, "%s", err.msg);
            break;
        case 'm':
            o->mode = optarg;
            break;
        case 'p':
            o->prompt = optarg;
            break;
        case 'S':
            o->stream = true;
            break;
        case 'P':
        case 'I': {
            cJSON **slot = c == 'P' ? &o->params : &o->input;
            cJSON_Delete(*slot);
            *slot = cJSON_Parse(optarg);
            if (!cJSON_IsObject(*slot))
                return devctl_usage(cmd, "--%s wants a JSON object, not %s",
                                    c == 'P' ? "params" : "input", optarg);
            break;
        }
        case 'f':
            o->field = optarg;
            break;
        case 'o':
            o->out_path = optarg;
            break;
        case 'k':
            o->keep_alive = strtod(optarg, &end);
            if (*end != '\0' || end == optarg || o->keep_alive < -1)
                return devctl_usage(cmd, "--keep-alive wants seconds >= -1, not %s", optarg);
            break;
        case 'n':
            o->max_tokens = strtol(optarg, &end, 10);
            if (*end != '\0' || end == optarg || o->max_tokens < 1)
                return devctl_usage(cmd, "--max-tokens wants a number >= 1, not %s", optarg);
            break;
        default:
            return devctl_usage(cmd, "unknown option");
        }
    }
    if (argc - optind != 2)
        return devctl_usage(cmd, "wants TYPE and PATH");
    return DEVCTL_OK;
}

/* Adds the files as tensors of input_data; `keep` collects the loaded buffers. */
static int add_tensors(const infer_opts *o, const char *type, hdm_request *req, cJSON *input,
                       void **keep)
{
    if (o->n_files == 0)
        return DEVCTL_OK;
    const char *field = "tensor";
    bool list = false;
    if (strcmp(type, "ocr") == 0 && o->mode != NULL && strcmp(o->mode, "recognition") == 0) {
        field = "crops";
        list = true;
    } else {
        for (size_t i = 0; i < sizeof(tensor_fields) / sizeof(tensor_fields[0]); i++)
            if (strcmp(type, tensor_fields[i].type) == 0) {
                field = tensor_fields[i].field;
                list = tensor_fields[i].list;
            }
    }
    /* A field named on the command line holds a list exactly when several files go in. */
    if (o->field != NULL) {
        field = o->field;
        list = o->n_files > 1;
    }
    if (!list && o->n_files > 1)
        return devctl_usage(&devctl_cmd_infer, "%s takes one --tensor (or name a --field)",
                            type);
    cJSON *arr = list ? cJSON_AddArrayToObject(input, field) : NULL;
    for (int i = 0; i < o->n_files; i++) {
        hdm_err err = {0};
        hdm_tensor t;
        if (tensorfile_load(o->files[i], o->dtype, o->ndim, o->shape, &t, &err) < 0) {
            fprintf(stderr, "hailo-devctl infer: %s\n", err.msg);
            return DEVCTL_FAIL;
        }
        keep[i] = t.data;
        if (hdm_request_add_tensor(req, list ? arr : input, list ? NULL : field, &t) < 0) {
            fprintf(stderr, "hailo-devctl infer: cannot add %s\n", o->files[i]);
            return DEVCTL_FAIL;
        }
    }
    return DEVCTL_OK;
}

static double element(const hdm_tensor *t, size_t i)
{
    switch (t->dtype) {
    case HDM_DT_UINT8:
        return ((const uint8_t *)t->data)[i];
    case HDM_DT_INT8:
        return ((const int8_t *)t->data)[i];
    case HDM_DT_UINT16:
        return ((const uint16_t *)t->data)[i];
    case HDM_DT_INT16:
        return ((const int16_t *)t->data)[i];
    case HDM_DT_INT32:
        return ((const int32_t *)t->data)[i];
    case HDM_DT_FLOAT16:
        return half_to_float(((const uint16_t *)t->data)[i]);
    default:
        return ((const float *)t->data)[i];
    }
}

/* "float32 [1,512]  min -0.12 max 0.3 mean 0.01  [0.1 0.2 ...]" */
static void print_tensor(devctl_ctx *ctx, const char *label, const hdm_tensor *t)
{
    fprintf(ctx->out, "%s%s [", label, hdm_dtype_name(t->dtype));
    for (int i = 0; i < t->ndim; i++)
        fprintf(ctx->out, "%s%lld", i ? "," : "", (long long)t->shape[i]);
    fprintf(ctx->out, "]");
    size_t n = t->nbytes / hdm_dtype_size(t->dtype);
    if (n > 0) {
        double lo = INFINITY, hi = -INFINITY, sum = 0;
        for (size_t i = 0; i < n; i++) {
            double v = element(t, i);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            sum += v;
        }
        fprintf(ctx->out, "  min %.4g max %.4g mean %.4g  [", lo, hi, sum / (double)n);
        for (size_t i = 0; i < n && i < 6; i++)
            fprintf(ctx->out, "%s%.4g", i ? " " : "", element(t, i));
        fprintf(ctx->out, "%s]", n > 6 ? " ..." : "");
    }
    fprintf(ctx->out, "\n");
}

static int is_tensor(const cJSON *j)
{
    return cJSON_IsObject(j) && cJSON_HasObjectItem(j, "dtype") && cJSON_HasObjectItem(j, "shape");
}

/* Prints (and with --out saves) a tensor of the answer. */
static int show_tensor(devctl_ctx *ctx, hdm_response *resp, const cJSON *j, const char *label,
                       const char *out_path)
{
    hdm_tensor t;
    if (hdm_response_tensor(resp, j, &t) < 0) {
        fprintf(stderr, "hailo-devctl infer: the answer holds a malformed tensor\n");
        return DEVCTL_FAIL;
    }
    if (!ctx->json)
        print_tensor(ctx, label, &t);
    if (out_path != NULL) {
        hdm_err err = {0};
        if (npy_write(out_path, &t, &err) < 0) {
            fprintf(stderr, "hailo-devctl infer: %s\n", err.msg);
            return DEVCTL_FAIL;
        }
    }
    return DEVCTL_OK;
}

static int show_result(devctl_ctx *ctx, hdm_response *resp, const infer_opts *o)
{
    const cJSON *json = hdm_response_json(resp);
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(json, "result");
    int r = DEVCTL_OK;
    if (ctx->json)
        devctl_print_json(ctx, json);
    if (is_tensor(result)) {
        r = show_tensor(ctx, resp, result, "result: ", o->out_path);
    } else if (cJSON_IsArray(result) && is_tensor(cJSON_GetArrayItem(result, 0))) {
        const cJSON *item;
        int i = 0;
        cJSON_ArrayForEach(item, result)
        {
            char label[32];
            snprintf(label, sizeof(label), "result[%d]: ", i++);
            if (r == DEVCTL_OK)
                r = show_tensor(ctx, resp, item, label, i == 1 ? o->out_path : NULL);
        }
    } else if (cJSON_IsObject(result) && is_tensor(result->child)) {
        const cJSON *item;
        cJSON_ArrayForEach(item, result)
        {
            char label[128];
            snprintf(label, sizeof(label), "%s: ", item->string);
            if (r == DEVCTL_OK && is_tensor(item))
                r = show_tensor(ctx, resp, item, label, NULL);
        }
    } else if (!ctx->json && cJSON_IsString(result)) {
        if (!o->stream)
            fprintf(ctx->out, "%s\n", result->valuestring);
    } else if (!ctx->json) {
        devctl_print_json(ctx, result);
    }
    if (!ctx->json)
        fprintf(ctx->out, "inference_time_ms: %.0f\n", devctl_num(json, "inference_time_ms", 0));
    return r;
}

static int print_delta(void *user, const char *delta, size_t len)
{
    devctl_ctx *ctx = user;
    if (!ctx->json) {
        fwrite(delta, 1, len, ctx->out);
        fflush(ctx->out);
    }
    return 0;
}

static int infer_exec(devctl_ctx *ctx, int argc, char **argv)
{
    infer_opts o = {.dtype = HDM_DT__COUNT, .keep_alive = HDM_KEEP_ALIVE_DEFAULT};
    void *keep[MAX_TENSORS] = {0};
    hdm_request *req = NULL;
    int r = parse_opts(&o, argc, argv);
    if (r != DEVCTL_OK)
        goto out;
    const char *type = argv[optind], *path = argv[optind + 1];
    if (o.stream && !is_genai(type)) {
        r = devctl_usage(&devctl_cmd_infer, "--stream is for vlm, vlm_chat and llm");
        goto out;
    }
    req = hdm_request_new("infer");
    cJSON *json = hdm_request_json(req);
    cJSON_AddStringToObject(json, "model_type", type);
    cJSON_AddStringToObject(json, "model_path", path);
    if (o.params != NULL) {
        cJSON_AddItemToObject(json, "model_params", o.params);
        o.params = NULL;
    }
    if (o.keep_alive != HDM_KEEP_ALIVE_DEFAULT)
        cJSON_AddNumberToObject(json, "keep_alive", o.keep_alive);
    cJSON *input = o.input ? o.input : cJSON_CreateObject();
    o.input = NULL;
    cJSON_AddItemToObject(json, "input_data", input);
    if (o.mode != NULL)
        cJSON_AddStringToObject(input, "mode", o.mode);
    if (o.prompt != NULL && strcmp(type, "llm") == 0) {
        /* One user message, so the model's chat template applies. */
        cJSON *msgs = cJSON_AddArrayToObject(input, "messages"), *m = cJSON_CreateObject();
        cJSON_AddItemToArray(msgs, m);
        cJSON_AddStringToObject(m, "role", "user");
        cJSON_AddStringToObject(m, "content", o.prompt);
    } else if (o.prompt != NULL) {
        cJSON_AddStringToObject(input, "prompt", o.prompt);
    }
    if (o.max_tokens > 0)
        cJSON_AddNumberToObject(input, "max_generated_tokens", (double)o.max_tokens);
    if ((r = add_tensors(&o, type, req, input, keep)) != DEVCTL_OK)
        goto out;

    hdm_response *resp = NULL;
    int rc = hdm_call_stream(ctx->client, req, ctx->timeout_ms, o.stream ? print_delta : NULL, ctx,
                             &resp);
    if (o.stream && !ctx->json)
        fprintf(ctx->out, "\n");
    if (rc != 0) {
        if (ctx->json && resp != NULL)
            devctl_print_json(ctx, hdm_response_json(resp));
        fprintf(stderr, "hailo-devctl: %s (%s)\n",
                resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(rc),
                hdm_error_code_name(rc));
        r = DEVCTL_FAIL;
    } else {
        r = show_result(ctx, resp, &o);
    }
    hdm_response_free(resp);
out:
    hdm_request_free(req);
    for (int i = 0; i < MAX_TENSORS; i++)
        free(keep[i]);
    cJSON_Delete(o.params);
    cJSON_Delete(o.input);
    return r;
}

const devctl_cmd devctl_cmd_infer = {
    "infer",
    "TYPE PATH [--tensor FILE.npy|RAW [--dtype D --shape A,B]] [--mode M] [--prompt TEXT "
    "[--stream] [--max-tokens N]] [--params JSON] [--input JSON] [--field NAME] [--out FILE.npy]",
    "run an inference", infer_exec};
