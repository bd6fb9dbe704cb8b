/*
 * hailort-dense.c - the InferModel model types of the HailoRT backend:
 * clip (image and text HEFs), ocr (detection and per-language recognition
 * with batching), depth and pose.
 *
 * DESIGN: every model here is "tensors in, float32 tensors out".  Inputs
 * are checked against the model's own stream shapes (clients send HWC, CHW
 * or either with a leading 1; hailort-layout.c converts to what the model
 * wants), outputs are asked from HailoRT as float32 (dequantised on the
 * host) and handed to the manager without another copy: each output buffer
 * becomes the tensor's data.  Buffers are page-aligned so HailoRT can map
 * them for DMA instead of bouncing them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tensor.h"
#include "hailort-backend.h"
#include "hailort-layout.h"

#define PAGE_ALIGN 4096
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_BATCH 64

static void *aligned_buf(size_t size)
{
    void *p = NULL;
    if (posix_memalign(&p, PAGE_ALIGN, size ? size : 1) != 0)
        return NULL;
    return p;
}

static void free_bufs(void **bufs, size_t n)
{
    if (!bufs)
        return;
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
    free(bufs);
}

/* ---- load ---------------------------------------------------------------------- */

/* Configures HEF `path` (request field `what`) of model m, opened as
 * hrt_model_file says. */
static int open_net(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                    const char *path, const char *what, hrt_type in_type, uint16_t batch,
                    hrt_net **out, hdm_err *err)
{
    hrt_net_options opt = {
        .input_type = in_type, .output_type = HRT_TYPE_FLOAT32, .batch_size = batch};
    char name[PATH_MAX];
    int rc = hrt_model_file(spec, m, path, what, name, sizeof(name), err);
    if (rc < 0)
        return rc;
    int st = hrt_net_open(dev, name, &opt, out);
    if (st != 0)
        return hrt_fail(b, err, st, "cannot configure HEF %s on the device", path);
    return 0;
}

/* Finds a named layer of the clip text encoder; the error lists the names it has. */
static int find_layer(const hrt_stream_info *streams, size_t n, const char *wanted,
                      const char *param, const char *hef, int *index, hdm_err *err)
{
    char names[256];
    int i = hrt_stream_find(streams, n, wanted);
    if (i >= 0) {
        *index = i;
        return 0;
    }
    return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_params.%s \"%s\" %s in %s (it has: %s)",
                       param, wanted ? wanted : "", i == -2 ? "is ambiguous" : "is not a layer",
                       hef, hrt_stream_names(streams, n, names, sizeof(names)));
}

static int load_clip(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                     hdm_err *err)
{
    int rc = open_net(b, dev, spec, m, spec->clip_image_hef, "model_params.image_hef_path",
                      HRT_TYPE_UINT8, 0, &m->net, err);
    if (rc < 0)
        return rc;
    if (hrt_net_n_inputs(m->net) != 1 || hrt_net_n_outputs(m->net) < 1)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "CLIP image HEF %s has %zu inputs and %zu outputs; one image input "
                           "and an embedding output are expected",
                           spec->clip_image_hef, hrt_net_n_inputs(m->net),
                           hrt_net_n_outputs(m->net));
    rc = open_net(b, dev, spec, m, spec->clip_text_hef, "model_params.text_hef_path",
                  HRT_TYPE_FLOAT32, 0, &m->text_net, err);
    if (rc < 0)
        return rc;
    if (hrt_net_n_inputs(m->text_net) != 1)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "CLIP text HEF %s has %zu inputs; one (the token embeddings) is "
                           "expected",
                           spec->clip_text_hef, hrt_net_n_inputs(m->text_net));
    rc = find_layer(hrt_net_inputs(m->text_net), hrt_net_n_inputs(m->text_net),
                    spec->clip_text_input, "text_input_layer", spec->clip_text_hef, &m->text_input,
                    err);
    if (rc == 0)
        rc = find_layer(hrt_net_outputs(m->text_net), hrt_net_n_outputs(m->text_net),
                        spec->clip_text_output, "text_output_layer", spec->clip_text_hef,
                        &m->text_output, err);
    return rc;
}

static int batch_size_of(const model_spec *spec, const char *lang, hdm_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec->ocr_batch_sizes, lang);
    if (!v)
        return 1;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > MAX_BATCH ||
        v->valuedouble != (double)(int)v->valuedouble)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model_params.batch_sizes.%s must be an integer from 1 to %d", lang,
                           MAX_BATCH);
    return v->valueint;
}

static int load_ocr(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                    hdm_err *err)
{
    const char *det = spec->ocr_detection_hef ? spec->ocr_detection_hef : spec->model_path;
    int n = cJSON_GetArraySize(spec->ocr_recognition_hefs), rc;
    const cJSON *lang;

    rc = open_net(b, dev, spec, m, det, "model_params.detection_hef_path", HRT_TYPE_UINT8, 0,
                  &m->net, err);
    if (rc < 0)
        return rc;
    if (hrt_net_n_inputs(m->net) != 1 || hrt_net_n_outputs(m->net) < 1)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "OCR detection HEF %s must have one image input and an output", det);
    if (n <= 0)
        return 0;
    m->rec = calloc((size_t)n, sizeof(*m->rec));
    if (!m->rec)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    cJSON_ArrayForEach(lang, spec->ocr_recognition_hefs)
    {
        hrt_ocr_rec *r = &m->rec[m->n_rec];
        int batch = batch_size_of(spec, lang->string, err);
        if (batch < 0)
            return batch;
        r->lang = strdup(lang->string);
        if (!r->lang)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        r->batch_size = batch;
        m->n_rec++;
        char what[96];
        snprintf(what, sizeof(what), "model_params.recognition_hefs.%s", lang->string);
        rc = open_net(b, dev, spec, m, cJSON_GetStringValue(lang), what, HRT_TYPE_UINT8,
                      (uint16_t)batch, &r->net, err);
        if (rc < 0)
            return rc;
        if (hrt_net_n_inputs(r->net) != 1 || hrt_net_n_outputs(r->net) < 1)
            return hdm_err_set(err, HDM_E_UNSUPPORTED,
                               "OCR recognition HEF for %s must have one image input and an "
                               "output",
                               r->lang);
    }
    return 0;
}

int hrt_dense_load(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                   hdm_err *err)
{
    int rc;

    switch (spec->kind) {
    case MODEL_CLIP:
        return load_clip(b, dev, spec, m, err);
    case MODEL_OCR:
        return load_ocr(b, dev, spec, m, err);
    case MODEL_DEPTH:
    case MODEL_POSE:
        rc = open_net(b, dev, spec, m, spec->model_path, "model_path", HRT_TYPE_UINT8, 0, &m->net,
                      err);
        if (rc == 0 && hrt_net_n_inputs(m->net) != 1)
            rc = hdm_err_set(err, HDM_E_UNSUPPORTED,
                             "%s has %zu inputs; %s models take one image input", spec->model_path,
                             hrt_net_n_inputs(m->net), model_kind_name(spec->kind));
        return rc;
    default:
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "Unsupported model_type: %s",
                           model_kind_name(spec->kind));
    }
}

int hrt_dense_model_info(backend_model *m, cJSON *info)
{
    const hrt_stream_info *s = hrt_net_inputs(m->net);
    const double shape[3] = {s->height, s->width, s->features};
    cJSON *arr = cJSON_CreateDoubleArray(shape, 3);
    if (!arr || !cJSON_AddItemToObject(info, "detection_input_shape", arr)) {
        cJSON_Delete(arr);
        return -HDM_E_NOMEM;
    }
    return 0;
}

/* ---- inputs and outputs ---------------------------------------------------------- */

/* An image tensor as the model's single input wants it, in a fresh buffer. */
static int image_input(const hrt_stream_info *s, const hdm_tensor *t, const char *what, void **buf,
                       hdm_err *err)
{
    hrt_layout layout;
    int rc;

    if (s->type != HRT_TYPE_UINT8)
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "input %s of the model is not uint8", s->name);
    if (s->order != HRT_ORDER_NHWC && s->order != HRT_ORDER_NCHW)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "input %s of the model takes a format this backend does not convert "
                           "to (only NHWC and NCHW images)",
                           s->name);
    if (t->dtype != HDM_DT_UINT8)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be uint8, not %s", what,
                           hdm_dtype_name(t->dtype));
    rc = hrt_image_layout(t, what, s->height, s->width, s->features, &layout, err);
    if (rc < 0)
        return rc;
    if ((size_t)s->height * s->width * s->features != s->frame_size)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "input %s has a padded frame (%zu bytes for "
                           "%ux%ux%u)",
                           s->name, s->frame_size, s->height, s->width, s->features);
    *buf = aligned_buf(s->frame_size);
    if (!*buf)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the model input");
    hrt_image_convert(t->data, layout, *buf, hrt_order_layout(s->order), s->height, s->width,
                      s->features, 1);
    return 0;
}

/*
 * Runs n frames whose input buffers are in[] (n * inputs) and returns in
 * *outs a fresh array of n * outputs buffers (free_bufs).
 */
static int run_net(backend *b, hrt_net *net, size_t n, void **in, int timeout_ms, const char *what,
                   void ***outs, hdm_err *err)
{
    size_t n_out = hrt_net_n_outputs(net);
    const hrt_stream_info *os = hrt_net_outputs(net);
    void **o = calloc(n * n_out, sizeof(*o));
    int st;

    if (!o)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the model outputs");
    for (size_t f = 0; f < n; f++) {
        for (size_t i = 0; i < n_out; i++) {
            o[f * n_out + i] = aligned_buf(os[i].frame_size);
            if (!o[f * n_out + i]) {
                free_bufs(o, n * n_out);
                return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the model outputs");
            }
        }
    }
    st = hrt_net_run(net, n, in, o, timeout_ms);
    if (st != 0) {
        free_bufs(o, n * n_out);
        return hrt_fail(b, err, st, "%s failed on the device", what);
    }
    *outs = o;
    return 0;
}

/* Makes *data (taken over, set to NULL) tensor of stream s and returns its JSON. */
static cJSON *output_tensor(infer_output *out, const hrt_stream_info *s, void **data, hdm_err *err)
{
    hdm_tensor t = {0};
    size_t elems = 1, es = hrt_type_size(s->type);
    int dtype = hrt_type_dtype(s->type);
    cJSON *obj;

    if (dtype < 0 || es == 0) {
        free(*data);
        *data = NULL;
        hdm_err_set(err, HDM_E_UNSUPPORTED, "output %s has a type the protocol cannot carry",
                    s->name);
        return NULL;
    }
    t.dtype = (hdm_dtype)dtype;
    t.ndim = hrt_stream_shape(s, t.shape);
    for (int i = 0; i < t.ndim; i++)
        elems *= (size_t)t.shape[i];
    if (elems * es != s->frame_size) {
        /* Padded or packed layouts: hand out the frame flat rather than lie. */
        t.ndim = 1;
        t.shape[0] = (int64_t)(s->frame_size / es);
    }
    t.data = *data;
    t.nbytes = s->frame_size;
    *data = NULL;
    obj = infer_output_add_tensor(out, &t);
    if (!obj)
        hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
    return obj;
}

/* ---- model types ------------------------------------------------------------------- */

static int infer_clip(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                      infer_output *out, hdm_err *err)
{
    const hdm_tensor *t = &in->u.clip.tensor;
    int timeout =
        hooks_time_left_ms(hooks, in->u.clip.timeout_ms > 0 ? in->u.clip.timeout_ms : 1000);
    void *input = NULL, **outs = NULL;
    hrt_net *net;
    int pick, rc;

    if (in->u.clip.mode == CLIP_MODE_IMAGE) {
        net = m->net;
        pick = 0;
        rc = image_input(hrt_net_inputs(net), t, "input_data.tensor", &input, err);
    } else {
        const hrt_stream_info *s = &hrt_net_inputs(m->text_net)[m->text_input];
        net = m->text_net;
        pick = m->text_output;
        if (t->dtype != HDM_DT_FLOAT32)
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "input_data.tensor must be float32 for "
                             "mode text, not %s",
                             hdm_dtype_name(t->dtype));
        else if (t->nbytes != s->frame_size)
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "input_data.tensor has %zu float32 values; text input %s takes "
                             "%u x %u x %u = %zu",
                             t->nbytes / 4, s->name, s->height, s->width, s->features,
                             s->frame_size / 4);
        else if (!(input = aligned_buf(s->frame_size)))
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for the model input");
        else {
            memcpy(input, t->data, s->frame_size);
            rc = 0;
        }
    }
    if (rc == 0)
        rc = run_net(b, net, 1, &input, timeout, "CLIP inference", &outs, err);
    free(input);
    if (rc < 0)
        return rc;
    out->result = output_tensor(out, &hrt_net_outputs(net)[pick], &outs[pick], err);
    free_bufs(outs, hrt_net_n_outputs(net));
    return out->result ? 0 : -HDM_E_NOMEM;
}

/* One image through a single-input net; the result is output 0, or (all_outputs)
 * every output by name when there are several. */
static int infer_image(backend *b, hrt_net *net, const hdm_tensor *t, const char *what,
                       bool all_outputs, const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    size_t n_out = hrt_net_n_outputs(net);
    const hrt_stream_info *os = hrt_net_outputs(net);
    void *input = NULL, **outs = NULL;
    int rc = image_input(hrt_net_inputs(net), t, what, &input, err);

    if (rc == 0)
        rc = run_net(b, net, 1, &input, hooks_time_left_ms(hooks, DEFAULT_TIMEOUT_MS), "inference",
                     &outs, err);
    free(input);
    if (rc < 0)
        return rc;
    if (!all_outputs || n_out == 1) {
        out->result = output_tensor(out, &os[0], &outs[0], err);
    } else {
        out->result = cJSON_CreateObject();
        for (size_t i = 0; out->result && i < n_out; i++) {
            cJSON *obj = output_tensor(out, &os[i], &outs[i], err);
            if (!obj || !cJSON_AddItemToObject(out->result, os[i].name, obj)) {
                cJSON_Delete(obj);
                cJSON_Delete(out->result);
                out->result = NULL;
            }
        }
        if (!out->result)
            hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
    }
    free_bufs(outs, n_out);
    return out->result ? 0 : -HDM_E_NOMEM;
}

static const hrt_ocr_rec *find_rec(const backend_model *m, const char *lang)
{
    for (size_t i = 0; i < m->n_rec; i++)
        if (strcmp(m->rec[i].lang, lang) == 0)
            return &m->rec[i];
    return NULL;
}

static int infer_ocr_recognition(backend *b, backend_model *m, const infer_input *in,
                                 const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    const hrt_ocr_rec *r = find_rec(m, in->u.ocr.language);
    size_t n = in->u.ocr.n_crops, batch, n_out;
    const hrt_stream_info *is, *os;
    void **inputs = NULL, **outs = NULL;
    int rc = 0;

    if (!r)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.language \"%s\" has no recognition model in %s (give it "
                           "in model_params.recognition_hefs)",
                           in->u.ocr.language, m->path);
    is = hrt_net_inputs(r->net);
    os = hrt_net_outputs(r->net);
    n_out = hrt_net_n_outputs(r->net);
    batch = (size_t)r->batch_size;
    if (in->u.ocr.batch_size > 0 && (size_t)in->u.ocr.batch_size < batch)
        batch = (size_t)in->u.ocr.batch_size;
    out->result = cJSON_CreateArray();
    inputs = calloc(batch, sizeof(*inputs));
    if (!out->result || !inputs) {
        free(inputs);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    for (size_t start = 0; start < n && rc == 0; start += batch) {
        size_t count = n - start < batch ? n - start : batch;
        rc = hooks_check(hooks, err);
        for (size_t i = 0; i < count && rc == 0; i++) {
            char what[48];
            snprintf(what, sizeof(what), "input_data.crops[%zu]", start + i);
            rc = image_input(is, &in->u.ocr.crops[start + i], what, &inputs[i], err);
        }
        if (rc == 0)
            rc = run_net(b, r->net, count, inputs, hooks_time_left_ms(hooks, DEFAULT_TIMEOUT_MS),
                         "OCR recognition", &outs, err);
        for (size_t i = 0; i < count; i++) {
            free(inputs[i]);
            inputs[i] = NULL;
        }
        for (size_t i = 0; i < count && rc == 0; i++) {
            cJSON *obj = output_tensor(out, &os[0], &outs[i * n_out], err);
            if (!obj || !cJSON_AddItemToArray(out->result, obj)) {
                cJSON_Delete(obj);
                rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
            }
        }
        free_bufs(outs, count * n_out); /* NULL when the run failed */
        outs = NULL;
    }
    free(inputs);
    return rc;
}

int hrt_dense_infer(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                    infer_output *out, hdm_err *err)
{
    switch (m->kind) {
    case MODEL_CLIP:
        return infer_clip(b, m, in, hooks, out, err);
    case MODEL_OCR:
        if (in->u.ocr.mode == OCR_MODE_DETECTION)
            return infer_image(b, m->net, &in->u.ocr.image, "input_data.image", false, hooks, out,
                               err);
        return infer_ocr_recognition(b, m, in, hooks, out, err);
    case MODEL_DEPTH:
        return infer_image(b, m->net, &in->u.dense.input, "input_data.input", false, hooks, out,
                           err);
    case MODEL_POSE:
        return infer_image(b, m->net, &in->u.dense.input, "input_data.input", true, hooks, out,
                           err);
    default:
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "Unsupported model_type: %s",
                           model_kind_name(m->kind));
    }
}
