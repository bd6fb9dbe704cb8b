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
 *
 * A run's buffers belong to HailoRT until it is done with them: a wait
 * that times out leaves the frame in flight and its late reply is written
 * into the output buffers, so such a run hands its buffers to hrt_net_run
 * (run_bufs), which frees them once the reply came or the model is closed.
 * A failed run makes HailoRT shut the configured model down for good; the
 * net is then re-created from the same HEF before the next run (counted in
 * the device status as model_recreations).  A timeout the request chose
 * (clip's timeout_ms, a deadline) is the client's: deadline_exceeded
 * without the words the registry reads as a device that stopped answering.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
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

/* The buffers of one run, freed together (possibly by HailoRT's thread,
 * through hrt_release_fn, when it kept them past a timeout). */
typedef struct run_bufs {
    void **in, **out;
    size_t n_in, n_out; /* pointers in each array */
} run_bufs;

static void run_bufs_free(void *owner)
{
    run_bufs *rb = owner;
    free_bufs(rb->in, rb->n_in);
    free_bufs(rb->out, rb->n_out);
    free(rb);
}

void hrt_netref_close(hrt_netref *r)
{
    hrt_net_close(r->net);
    free(r->hef_name);
    free(r->path);
    memset(r, 0, sizeof(*r));
}

/* ---- load ---------------------------------------------------------------------- */

/* Configures HEF `path` (request field `what`) of model m into *r, opened
 * as hrt_model_file says, and keeps what configuring it again takes. */
static int open_net(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                    const char *path, const char *what, hrt_type in_type, uint16_t batch,
                    hrt_netref *r, hdm_err *err)
{
    char name[PATH_MAX];
    int rc = hrt_model_file(spec, m, path, what, name, sizeof(name), err);
    if (rc < 0)
        return rc;
    r->opt = (hrt_net_options){
        .input_type = in_type, .output_type = HRT_TYPE_FLOAT32, .batch_size = batch};
    r->hef_name = strdup(name);
    r->path = strdup(path);
    if (!r->hef_name || !r->path)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    int st = hrt_net_open(dev, name, &r->opt, &r->net);
    if (st != 0)
        return hrt_fail(b, err, st, "cannot configure HEF %s on the device", path);
    return 0;
}

/* Configures a net again after HailoRT shut it down (or a re-creation that
 * failed before).  Returns 0 or a negative code with err. */
static int recreate_net(backend *b, hrt_netref *r, hdm_err *err)
{
    hrt_net *net = NULL;
    hrt_net_close(r->net); /* waits a bounded time for runs still in flight */
    r->net = NULL;
    int st = hrt_net_open(hrt_backend_device(b), r->hef_name, &r->opt, &net);
    if (st != 0)
        return hrt_fail(b, err, st, "cannot configure HEF %s again after HailoRT shut it down",
                        r->path);
    r->net = net;
    hrt_backend_count_recreation(b);
    log_warn("HEF %s re-created: HailoRT had shut its configured model down after a failed run",
             r->path);
    return 0;
}

/* The net of r, configured again first when a re-creation failed before. */
static int usable_net(backend *b, hrt_netref *r, hdm_err *err)
{
    return r->net ? 0 : recreate_net(b, r, err);
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
    if (hrt_net_n_inputs(m->net.net) != 1 || hrt_net_n_outputs(m->net.net) < 1)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "CLIP image HEF %s has %zu inputs and %zu outputs; one image input "
                           "and an embedding output are expected",
                           spec->clip_image_hef, hrt_net_n_inputs(m->net.net),
                           hrt_net_n_outputs(m->net.net));
    rc = open_net(b, dev, spec, m, spec->clip_text_hef, "model_params.text_hef_path",
                  HRT_TYPE_FLOAT32, 0, &m->text_net, err);
    if (rc < 0)
        return rc;
    if (hrt_net_n_inputs(m->text_net.net) != 1)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "CLIP text HEF %s has %zu inputs; one (the token embeddings) is "
                           "expected",
                           spec->clip_text_hef, hrt_net_n_inputs(m->text_net.net));
    rc = find_layer(hrt_net_inputs(m->text_net.net), hrt_net_n_inputs(m->text_net.net),
                    spec->clip_text_input, "text_input_layer", spec->clip_text_hef, &m->text_input,
                    err);
    if (rc == 0)
        rc = find_layer(hrt_net_outputs(m->text_net.net), hrt_net_n_outputs(m->text_net.net),
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
    if (hrt_net_n_inputs(m->net.net) != 1 || hrt_net_n_outputs(m->net.net) < 1)
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
        if (hrt_net_n_inputs(r->net.net) != 1 || hrt_net_n_outputs(r->net.net) < 1)
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
        if (rc == 0 && hrt_net_n_inputs(m->net.net) != 1)
            rc = hdm_err_set(err, HDM_E_UNSUPPORTED,
                             "%s has %zu inputs; %s models take one image input", spec->model_path,
                             hrt_net_n_inputs(m->net.net), model_kind_name(spec->kind));
        return rc;
    default:
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "Unsupported model_type: %s",
                           model_kind_name(spec->kind));
    }
}

int hrt_dense_model_info(backend_model *m, cJSON *info)
{
    const hrt_stream_info *s = hrt_net_inputs(m->net.net);
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
    int want = hrt_order_layout(s->order), rc;

    if (s->type != HRT_TYPE_UINT8)
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "input %s of the model is not uint8", s->name);
    if (want < 0)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "input %s of the model takes %s, a format this backend does not "
                           "convert images to (NHWC, FCR, F8CR and NCHW only)",
                           s->name, hrt_order_name(s->order));
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
    hrt_image_convert(t->data, layout, *buf, (hrt_layout)want, s->height, s->width, s->features, 1);
    return 0;
}

/* True when the status is a name in names (NULL-terminated). */
static bool status_is(int status, const char *const *names)
{
    const char *name = hrt_status_name(status);
    for (; name && *names; names++)
        if (strcmp(name, *names) == 0)
            return true;
    return false;
}

/*
 * Runs n frames through r's net (usable: usable_net() said so).  in is a
 * malloc'd array of n * inputs buffers, taken over whatever happens.  On
 * success *outs gets a fresh array of n * outputs buffers (free_bufs).
 * client_timeout: timeout_ms is what the request allowed (its timeout_ms
 * or deadline), not the device's own limit.
 */
static int run_net(backend *b, hrt_netref *r, size_t n, void **in, int timeout_ms,
                   bool client_timeout, const char *what, void ***outs, hdm_err *err)
{
    static const char *const shut_down[] = {"HAILO_STREAM_ABORT", "HAILO_SHUTDOWN_EVENT_SIGNALED",
                                            NULL};
    static const char *const timed_out[] = {"HAILO_TIMEOUT", NULL};
    size_t n_in = hrt_net_n_inputs(r->net), n_out = hrt_net_n_outputs(r->net);
    run_bufs *rb = calloc(1, sizeof(*rb));
    unsigned flags = 0;
    int st, rc;

    if (!rb) {
        free_bufs(in, n * n_in);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    rb->in = in;
    rb->n_in = n * n_in;
    rb->out = calloc(n * n_out, sizeof(*rb->out));
    if (!rb->out) {
        run_bufs_free(rb);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the model outputs");
    }
    rb->n_out = n * n_out;
    for (size_t f = 0; f < n; f++) {
        for (size_t i = 0; i < n_out; i++) {
            rb->out[f * n_out + i] = aligned_buf(hrt_net_outputs(r->net)[i].frame_size);
            if (!rb->out[f * n_out + i]) {
                run_bufs_free(rb);
                return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the model outputs");
            }
        }
    }
    st = hrt_net_run(r->net, n, rb->in, rb->out, timeout_ms, run_bufs_free, rb, &flags);
    if (st == 0) {
        *outs = rb->out;
        rb->out = NULL;
        rb->n_out = 0;
        run_bufs_free(rb);
        return 0;
    }
    if (!(flags & HRT_RUN_KEPT))
        run_bufs_free(rb); /* else HailoRT frees them once its reply came */
    if (client_timeout && status_is(st, timed_out))
        rc = hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED,
                         "%s did not finish within the %d ms the request allowed (the frame "
                         "stays with the device until its answer comes)",
                         what, timeout_ms);
    else
        rc = hrt_fail(b, err, st, "%s failed on the device", what);
    if ((flags & HRT_RUN_NET_DOWN) || status_is(st, shut_down)) {
        hdm_err again;
        if (recreate_net(b, r, &again) < 0)
            log_warn("%s", again.msg); /* tried again before the next run */
    }
    return rc;
}

/* Makes *data (taken over, set to NULL) tensor of stream s and returns its JSON. */
static cJSON *output_tensor(infer_output *out, const hrt_stream_info *s, void **data, hdm_err *err)
{
    hdm_tensor t = {0};
    size_t es = hrt_type_size(s->type);
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
    int asked = in->u.clip.timeout_ms > 0 ? in->u.clip.timeout_ms : 1000;
    int timeout = hooks_time_left_ms(hooks, asked);
    void **input = calloc(1, sizeof(*input)), **outs = NULL;
    hrt_netref *r;
    int pick, rc;

    if (!input)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the model input");
    if (in->u.clip.mode == CLIP_MODE_IMAGE) {
        r = &m->net;
        pick = 0;
        rc = usable_net(b, r, err);
        if (rc == 0)
            rc = image_input(hrt_net_inputs(r->net), t, "input_data.tensor", &input[0], err);
    } else {
        r = &m->text_net;
        pick = m->text_output;
        rc = usable_net(b, r, err);
        const hrt_stream_info *s = rc == 0 ? &hrt_net_inputs(r->net)[m->text_input] : NULL;
        if (rc == 0 && t->dtype != HDM_DT_FLOAT32)
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "input_data.tensor must be float32 for "
                             "mode text, not %s",
                             hdm_dtype_name(t->dtype));
        else if (rc == 0 && t->nbytes != s->frame_size)
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "input_data.tensor has %zu float32 values; text input %s takes "
                             "%u x %u x %u = %zu",
                             t->nbytes / 4, s->name, s->height, s->width, s->features,
                             s->frame_size / 4);
        else if (rc == 0 && !(input[0] = aligned_buf(s->frame_size)))
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for the model input");
        else if (rc == 0)
            memcpy(input[0], t->data, s->frame_size);
    }
    if (rc < 0) {
        free_bufs(input, 1);
        return rc;
    }
    rc = run_net(b, r, 1, input, timeout, true, "CLIP inference", &outs, err);
    if (rc < 0)
        return rc;
    out->result = output_tensor(out, &hrt_net_outputs(r->net)[pick], &outs[pick], err);
    free_bufs(outs, hrt_net_n_outputs(r->net));
    return out->result ? 0 : -HDM_E_NOMEM;
}

/* One image through a single-input net; the result is output 0, or (all_outputs)
 * every output by name when there are several. */
static int infer_image(backend *b, hrt_netref *r, const hdm_tensor *t, const char *what,
                       bool all_outputs, const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    void **input = calloc(1, sizeof(*input)), **outs = NULL;
    int rc = input ? usable_net(b, r, err) : hdm_err_set(err, HDM_E_NOMEM, "out of memory");

    if (rc == 0)
        rc = image_input(hrt_net_inputs(r->net), t, what, &input[0], err);
    if (rc < 0) {
        free_bufs(input, 1);
        return rc;
    }
    int timeout = hooks_time_left_ms(hooks, DEFAULT_TIMEOUT_MS);
    rc = run_net(b, r, 1, input, timeout, timeout < DEFAULT_TIMEOUT_MS, "inference", &outs, err);
    if (rc < 0)
        return rc;
    size_t n_out = hrt_net_n_outputs(r->net);
    const hrt_stream_info *os = hrt_net_outputs(r->net);
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

static hrt_ocr_rec *find_rec(backend_model *m, const char *lang)
{
    for (size_t i = 0; i < m->n_rec; i++)
        if (strcmp(m->rec[i].lang, lang) == 0)
            return &m->rec[i];
    return NULL;
}

static int infer_ocr_recognition(backend *b, backend_model *m, const infer_input *in,
                                 const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    hrt_ocr_rec *r = find_rec(m, in->u.ocr.language);
    size_t n = in->u.ocr.n_crops, batch;
    int rc = 0;

    if (!r)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.language \"%s\" has no recognition model in %s (give it "
                           "in model_params.recognition_hefs)",
                           in->u.ocr.language, m->path);
    batch = (size_t)r->batch_size;
    if (in->u.ocr.batch_size > 0 && (size_t)in->u.ocr.batch_size < batch)
        batch = (size_t)in->u.ocr.batch_size;
    out->result = cJSON_CreateArray();
    if (!out->result)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    for (size_t start = 0; start < n && rc == 0; start += batch) {
        size_t count = n - start < batch ? n - start : batch;
        void **inputs = NULL, **outs = NULL;
        rc = hooks_check(hooks, err);
        if (rc == 0)
            rc = usable_net(b, &r->net, err);
        if (rc == 0 && !(inputs = calloc(count, sizeof(*inputs))))
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        for (size_t i = 0; i < count && rc == 0; i++) {
            char what[48];
            snprintf(what, sizeof(what), "input_data.crops[%zu]", start + i);
            rc = image_input(hrt_net_inputs(r->net.net), &in->u.ocr.crops[start + i], what,
                             &inputs[i], err);
        }
        if (rc < 0) {
            free_bufs(inputs, count);
            break;
        }
        int timeout = hooks_time_left_ms(hooks, DEFAULT_TIMEOUT_MS);
        rc = run_net(b, &r->net, count, inputs, timeout, timeout < DEFAULT_TIMEOUT_MS,
                     "OCR recognition", &outs, err);
        if (rc < 0)
            break;
        size_t n_out = hrt_net_n_outputs(r->net.net);
        const hrt_stream_info *os = hrt_net_outputs(r->net.net);
        for (size_t i = 0; i < count && rc == 0; i++) {
            cJSON *obj = output_tensor(out, &os[0], &outs[i * n_out], err);
            if (!obj || !cJSON_AddItemToArray(out->result, obj)) {
                cJSON_Delete(obj);
                rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
            }
        }
        free_bufs(outs, count * n_out);
    }
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
            return infer_image(b, &m->net, &in->u.ocr.image, "input_data.image", false, hooks, out,
                               err);
        return infer_ocr_recognition(b, m, in, hooks, out, err);
    case MODEL_DEPTH:
        return infer_image(b, &m->net, &in->u.dense.input, "input_data.input", false, hooks, out,
                           err);
    case MODEL_POSE:
        return infer_image(b, &m->net, &in->u.dense.input, "input_data.input", true, hooks, out,
                           err);
    default:
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "Unsupported model_type: %s",
                           model_kind_name(m->kind));
    }
}
