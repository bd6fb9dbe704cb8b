/*
 * test_hailort_backend.c - the HailoRT backend's C code (backend-hailort.c,
 * hailort-dense.c, hailort-genai-glue.c) against the fake HailoRT of
 * hailort_fake_rt.c: device scan and open, identify and its cache, memory
 * footprints, status mapping, device loss and reset, layouts, CLIP layer
 * names, pose outputs, OCR batching, VLM streaming/stop/cancel and
 * Speech2Text.  What needs the real chip is covered by
 * scripts/verify-hardware.sh on a Pi.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "hailort_fake_rt.h"
#include "backends/backend.h"
#include "backends/hailort-backend.h"

#define MIB (1024ull * 1024ull)

static char dir[64];
static char p_depth[128], p_depth_chw[128], p_pose[128], p_clip_img[128], p_clip_txt[128],
    p_ocr_det[128], p_ocr_rec[128], p_vlm[128], p_whisper[128], p_oom[128];

static void write_file(char *path, const char *name, size_t bytes)
{
    snprintf(path, 128, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < bytes; i++)
        fputc((int)(i & 0xff), f);
    fclose(f);
}

static int setup_files(void **state)
{
    (void)state;
    log_init("test_hailort_backend", LOG_LEVEL_ERROR);
    snprintf(dir, sizeof(dir), "/tmp/test_hailort.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    write_file(p_depth, "scdepthv3.hef", 1000);
    write_file(p_depth_chw, "depth_nchw.hef", 10);
    write_file(p_pose, "yolov8s_pose.hef", 10);
    write_file(p_clip_img, "clip_image.hef", 300);
    write_file(p_clip_txt, "clip_text.hef", 200);
    write_file(p_ocr_det, "ocr_det.hef", 10);
    write_file(p_ocr_rec, "ocr_rec_en.hef", 10);
    write_file(p_vlm, "Qwen2-VL-2B-Instruct.hef", 10);
    write_file(p_whisper, "Whisper-Base.hef", 10);
    write_file(p_oom, "huge.hef", 10);
    return 0;
}

static int teardown_files(void **state)
{
    (void)state;
    const char *paths[] = {p_depth,   p_depth_chw, p_pose, p_clip_img, p_clip_txt,
                           p_ocr_det, p_ocr_rec,   p_vlm,  p_whisper,  p_oom};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        unlink(paths[i]);
    rmdir(dir);
    fake_reset();
    return 0;
}

/* A fresh fake device knowing every HEF of the tests. */
static int setup(void **state)
{
    (void)state;
    fake_hef *h;
    fake_reset();
    h = fake_add_hef(p_depth, 100 * MIB);
    fake_stream(&h->in[h->n_in++], "scdepthv3/input_layer1", 4, 6, 3, HRT_ORDER_NHWC,
                HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "scdepthv3/conv31", 4, 6, 1, HRT_ORDER_NHWC, HRT_TYPE_UINT8);
    h = fake_add_hef(p_depth_chw, 10 * MIB);
    fake_stream(&h->in[h->n_in++], "d/in", 2, 2, 3, HRT_ORDER_NCHW, HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "d/out", 2, 2, 1, HRT_ORDER_NHWC, HRT_TYPE_UINT8);
    h = fake_add_hef(p_pose, 50 * MIB);
    fake_stream(&h->in[h->n_in++], "yolov8s_pose/input_layer1", 4, 4, 3, HRT_ORDER_NHWC,
                HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "yolov8s_pose/conv70", 2, 2, 4, HRT_ORDER_NHWC,
                HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "yolov8s_pose/conv71", 2, 2, 1, HRT_ORDER_NHWC,
                HRT_TYPE_UINT8);
    h = fake_add_hef(p_clip_img, 80 * MIB);
    fake_stream(&h->in[h->n_in++], "clip_image/input_layer1", 8, 8, 3, HRT_ORDER_NHWC,
                HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "clip_image/fc1", 1, 1, 16, HRT_ORDER_NC, HRT_TYPE_UINT8);
    h = fake_add_hef(p_clip_txt, 60 * MIB);
    fake_stream(&h->in[h->n_in++], "clip_text/input_layer1", 1, 77, 16, HRT_ORDER_NHWC,
                HRT_TYPE_UINT16);
    fake_stream(&h->out[h->n_out++], "clip_text/output_layer1", 1, 77, 16, HRT_ORDER_NHWC,
                HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "clip_text/other", 1, 1, 4, HRT_ORDER_NC, HRT_TYPE_UINT8);
    h = fake_add_hef(p_ocr_det, 20 * MIB);
    fake_stream(&h->in[h->n_in++], "det/in", 16, 32, 3, HRT_ORDER_NHWC, HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "det/out", 16, 32, 1, HRT_ORDER_NHWC, HRT_TYPE_UINT8);
    h = fake_add_hef(p_ocr_rec, 10 * MIB);
    fake_stream(&h->in[h->n_in++], "rec/in", 4, 8, 3, HRT_ORDER_NHWC, HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "rec/out", 1, 1, 10, HRT_ORDER_NC, HRT_TYPE_UINT8);
    h = fake_add_hef(p_oom, 0);
    h->open_status = FAKE_OUT_OF_FW_MEMORY;
    fake_stream(&fake.vlm_frame, "frame", 4, 4, 3, HRT_ORDER_NHWC, HRT_TYPE_UINT8);
    return 0;
}

static backend *open_ok(const char *group)
{
    backend_config cfg = {.group_id = group};
    backend *b = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    int rc = backend_hailort_ops.open(&cfg, &b, &err);
    if (rc != 0)
        fail_msg("open: %s", err.msg);
    return b;
}

static backend_model *load_ok(backend *b, model_spec *spec, uint64_t *fp)
{
    backend_model *m = NULL;
    hdm_err err;
    uint64_t footprint = 0;
    hdm_err_clear(&err);
    int rc = backend_hailort_ops.load(b, spec, &m, &footprint, &err);
    if (rc != 0)
        fail_msg("load %s: %s", spec->model_path, err.msg);
    if (fp)
        *fp = footprint;
    return m;
}

static hdm_tensor u8_tensor(uint8_t *data, int ndim, const int64_t *shape)
{
    hdm_tensor t = {.dtype = HDM_DT_UINT8, .ndim = ndim, .data = data, .nbytes = 1};
    for (int i = 0; i < ndim; i++) {
        t.shape[i] = shape[i];
        t.nbytes *= (size_t)shape[i];
    }
    return t;
}

/* ---- open / identify ------------------------------------------------------------- */

static void test_open_without_device(void **state)
{
    (void)state;
    backend *b = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    fake.n_devices = 0;
    assert_int_equal(backend_hailort_ops.open(NULL, &b, &err), -HDM_E_DEVICE_ERROR);
    assert_null(b);
    assert_non_null(strstr(err.msg, "no Hailo device found"));
    assert_non_null(strstr(err.msg, "--backend sim"));

    fake.n_devices = 1;
    fake.scan_status = FAKE_DRIVER_OPERATION_FAILED;
    assert_int_equal(backend_hailort_ops.open(NULL, &b, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "HAILO_DRIVER_OPERATION_FAILED"));
    assert_non_null(strstr(err.msg, "hailo1x_pci"));

    fake.scan_status = 0;
    fake.open_status = FAKE_DEVICE_IN_USE;
    assert_int_equal(backend_hailort_ops.open(NULL, &b, &err), -HDM_E_BUSY);
    assert_non_null(strstr(err.msg, "VDevice group \"SHARED\""));
}

static void test_open_group(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    assert_string_equal(fake.group_id, "SHARED");
    backend_hailort_ops.close(b);
    assert_int_equal(fake.closes, 1);
    b = open_ok("mine");
    assert_string_equal(fake.group_id, "mine");
    backend_hailort_ops.close(b);
    backend_hailort_ops.close(NULL);
}

static void test_identify_and_cache(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    device_info info;
    model_spec spec = {.kind = MODEL_DEPTH, .model_path = p_depth};

    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_string_equal(info.architecture, "HAILO10H");
    assert_string_equal(info.fw_version, "5.2.0");
    assert_string_equal(info.device_id, "0001:01:00.0");
    assert_true(fabs(info.temperature_celsius - 47.5) < 1e-9);
    assert_int_equal(info.memory_total_bytes, 8ull << 30);
    assert_int_equal(info.memory_used_bytes, 300 * MIB);
    assert_false(info.simulated);
    /* Polled again at once: answered from the cache. */
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_int_equal(fake.identify_calls, 1);
    /* A load changes memory: the next identify asks the device. */
    backend_model *m = load_ok(b, &spec, NULL);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_int_equal(fake.identify_calls, 2);
    assert_int_equal(info.memory_used_bytes, 400 * MIB);
    backend_hailort_ops.unload(b, m);
    backend_hailort_ops.close(b);

    fake.has_temperature = false;
    fake.has_ram = false;
    b = open_ok(NULL);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_true(isnan(info.temperature_celsius));
    assert_int_equal(info.memory_total_bytes, 0);
    backend_hailort_ops.close(b);
}

/* ---- load: footprints and errors --------------------------------------------------- */

static void test_footprint_measured(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec depth = {.kind = MODEL_DEPTH, .model_path = p_depth};
    model_spec vlm = {.kind = MODEL_VLM, .model_path = p_vlm};
    uint64_t fp = 0;

    backend_model *m = load_ok(b, &depth, &fp);
    assert_int_equal(fp, 100 * MIB);
    backend_model *v = load_ok(b, &vlm, &fp);
    assert_int_equal(fp, 3ull << 30);
    /* The estimate before a load is the HEF size. */
    assert_int_equal(backend_hailort_ops.estimate_footprint(b, &depth), 1000);
    backend_hailort_ops.unload(b, m);
    backend_hailort_ops.unload(b, v);
    assert_int_equal(fake.ram_used, 300 * MIB);

    /* No RAM figures (not a Hailo-10H): footprint unknown, load still works. */
    fake.has_ram = false;
    m = load_ok(b, &depth, &fp);
    assert_int_equal(fp, 0);
    backend_hailort_ops.close(b); /* closes what is still loaded */
    assert_int_equal(fake.open_nets, 0);
}

static void test_load_errors(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    backend_model *m = NULL;
    hdm_err err;
    char missing[160];
    model_spec oom = {.kind = MODEL_DEPTH, .model_path = p_oom};
    model_spec none = {.kind = MODEL_POSE, .model_path = missing};

    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.load(b, &oom, &m, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, "HAILO_OUT_OF_FW_MEMORY = 71"));
    assert_non_null(strstr(err.msg, p_oom));
    assert_null(m);

    snprintf(missing, sizeof(missing), "%s/nope.hef", dir);
    assert_int_equal(backend_hailort_ops.load(b, &none, &m, NULL, &err), -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "model file not found"));

    /* A HEF the runtime cannot open (unknown to the fake): named status. */
    model_spec unknown = {.kind = MODEL_DEPTH, .model_path = p_whisper};
    assert_int_equal(backend_hailort_ops.load(b, &unknown, &m, NULL, &err), -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "HAILO_OPEN_FILE_FAILURE"));

    /* One GenAI model at a time: the second is resource exhaustion, so the
     * registry evicts the first. */
    model_spec vlm = {.kind = MODEL_VLM, .model_path = p_vlm};
    backend_model *v = load_ok(b, &vlm, NULL);
    assert_int_equal(backend_hailort_ops.load(b, &vlm, &m, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    backend_hailort_ops.unload(b, v);

    fake.vlm_open_status = FAKE_OUT_OF_FW_MEMORY;
    assert_int_equal(backend_hailort_ops.load(b, &vlm, &m, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "cannot create the VLM from"));
    assert_int_equal(fake.open_nets, 0);
    backend_hailort_ops.close(b);
}

/* Until the HailoRT LLM binding exists, an llm model fails at load with a
 * sentence saying so, touches nothing and leaves the GenAI slot free. */
static void test_llm_not_built(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    backend_model *m = NULL;
    hdm_err err;
    model_spec llm = {.kind = MODEL_LLM, .model_path = p_vlm};
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.load(b, &llm, &m, NULL, &err), -HDM_E_UNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(err.msg, "the HailoRT LLM binding is not built"));
    assert_non_null(strstr(err.msg, p_vlm));
    assert_int_equal(fake.open_nets, 0);
    model_spec vlm = {.kind = MODEL_VLM, .model_path = p_vlm};
    backend_model *v = load_ok(b, &vlm, NULL);
    backend_hailort_ops.unload(b, v);
    backend_hailort_ops.close(b);
}

static void test_device_lost_and_reset(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec depth = {.kind = MODEL_DEPTH, .model_path = p_depth};
    backend_model *m = load_ok(b, &depth, NULL), *m2 = NULL;
    uint8_t px[4 * 6 * 3] = {0};
    infer_input in = {.kind = MODEL_DEPTH};
    infer_output out = {0};
    device_info info;
    hdm_err err;

    in.u.dense.input = u8_tensor(px, 3, (int64_t[]){4, 6, 3});
    hdm_err_clear(&err);
    /* A timeout is not a lost device. */
    fake.run_status = FAKE_TIMEOUT;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(err.msg, "HAILO_TIMEOUT"));
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);

    fake.run_status = FAKE_DRIVER_OPERATION_FAILED;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_DEVICE_ERROR);
    assert_null(out.result);
    /* Lost: everything fails until reset, without touching the device. */
    fake.run_status = 0;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(backend_hailort_ops.load(b, &depth, &m2, NULL, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "reset"));
    assert_int_equal(backend_hailort_ops.identify(b, &info, &err), -HDM_E_DEVICE_ERROR);

    backend_hailort_ops.unload(b, m);
    /* A reset that cannot reopen the device fails, and can be retried. */
    fake.open_status = FAKE_DRIVER_OPERATION_FAILED;
    assert_int_equal(backend_hailort_ops.reset(b, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "runtime reset: "));
    assert_int_equal(backend_hailort_ops.load(b, &depth, &m2, NULL, &err), -HDM_E_DEVICE_ERROR);
    fake.open_status = 0;
    assert_int_equal(backend_hailort_ops.reset(b, &err), 0);
    assert_int_equal(fake.opens, 2);
    assert_int_equal(fake.closes, 1);
    m = load_ok(b, &depth, NULL);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    backend_hailort_ops.unload(b, m);
    backend_hailort_ops.close(b);
}

/* ---- dense models ------------------------------------------------------------------- */

static void test_depth_layouts(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_DEPTH, .model_path = p_depth};
    backend_model *m = load_ok(b, &spec, NULL);
    uint8_t chw[3 * 4 * 6];
    infer_input in = {.kind = MODEL_DEPTH};
    infer_output out = {0};
    hdm_err err;
    double sum = 0;

    /* Channel c holds value c + 1 everywhere: in HWC the model sees 1,2,3,1,2,3... */
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 24; i++) {
            chw[c * 24 + i] = (uint8_t)(c + 1);
            sum += c + 1;
        }
    in.u.dense.input = u8_tensor(chw, 4, (int64_t[]){1, 3, 4, 6});
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_int_equal(fake.last_input_size, 72);
    for (int i = 0; i < 72; i++)
        assert_int_equal(fake.last_input[i], i % 3 + 1);
    /* float32 [1,4,6,1], referenced from the result. */
    assert_int_equal(out.n_tensors, 1);
    assert_int_equal(out.tensors[0].dtype, HDM_DT_FLOAT32);
    assert_int_equal(out.tensors[0].ndim, 3); /* per frame: [h, w, f] */
    assert_true(out.tensors[0].shape[0] == 4 && out.tensors[0].shape[1] == 6 &&
                out.tensors[0].shape[2] == 1);
    assert_true(((float *)out.tensors[0].data)[0] == (float)sum);
    assert_int_equal(cJSON_GetObjectItem(out.result, "attachment")->valueint, 0);
    infer_output_clear(&out);

    /* Wrong shape and dtype say what was expected. */
    hdm_err_clear(&err);
    in.u.dense.input = u8_tensor(chw, 3, (int64_t[]){6, 4, 3});
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "input_data.input"));
    assert_non_null(strstr(err.msg, "[4,6,3] (HWC)"));
    in.u.dense.input = u8_tensor(chw, 3, (int64_t[]){4, 6, 3});
    in.u.dense.input.dtype = HDM_DT_INT8;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "must be uint8"));
    /* Input meant for another model type. */
    in.kind = MODEL_POSE;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    backend_hailort_ops.unload(b, m);

    /* A model that wants NCHW gets CHW from an HWC image. */
    model_spec nchw = {.kind = MODEL_DEPTH, .model_path = p_depth_chw};
    m = load_ok(b, &nchw, NULL);
    uint8_t hwc[2 * 2 * 3] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3};
    in.kind = MODEL_DEPTH;
    in.u.dense.input = u8_tensor(hwc, 3, (int64_t[]){2, 2, 3});
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    const uint8_t want[12] = {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
    assert_memory_equal(fake.last_input, want, 12);
    infer_output_clear(&out);
    backend_hailort_ops.unload(b, m);
    backend_hailort_ops.close(b);
}

static void test_pose_outputs_by_name(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_POSE, .model_path = p_pose};
    backend_model *m = load_ok(b, &spec, NULL);
    uint8_t px[4 * 4 * 3] = {0};
    infer_input in = {.kind = MODEL_POSE};
    infer_output out = {0};

    in.u.dense.input = u8_tensor(px, 3, (int64_t[]){4, 4, 3});
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_int_equal(out.n_tensors, 2);
    const cJSON *a = cJSON_GetObjectItem(out.result, "yolov8s_pose/conv70");
    const cJSON *c = cJSON_GetObjectItem(out.result, "yolov8s_pose/conv71");
    assert_non_null(a);
    assert_non_null(c);
    assert_string_equal(cJSON_GetObjectItem(a, "dtype")->valuestring, "float32");
    int ia = cJSON_GetObjectItem(a, "attachment")->valueint;
    int ic = cJSON_GetObjectItem(c, "attachment")->valueint;
    assert_int_equal(out.tensors[ia].shape[2], 4);
    assert_int_equal(out.tensors[ic].shape[2], 1);
    /* Values come from the right output (k + 100 * output index). */
    assert_true(((float *)out.tensors[ic].data)[1] == 101.0f);
    infer_output_clear(&out);
    backend_hailort_ops.close(b);
}

static model_spec clip_spec(const char *text_in, const char *text_out)
{
    model_spec s = {.kind = MODEL_CLIP, .model_path = p_clip_img};
    s.clip_image_hef = p_clip_img;
    s.clip_text_hef = p_clip_txt;
    s.clip_text_input = text_in;
    s.clip_text_output = text_out;
    return s;
}

static void test_clip(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = clip_spec("input_layer1", "clip_text/output_layer1");
    uint64_t fp = 0;
    backend_model *m = load_ok(b, &spec, &fp), *bad = NULL;
    uint8_t px[8 * 8 * 3] = {0};
    float *tokens = calloc(77 * 16, sizeof(float));
    infer_input in = {.kind = MODEL_CLIP};
    infer_output out = {0};
    hdm_err err;

    assert_int_equal(fp, 140 * MIB); /* both HEFs */
    in.u.clip.mode = CLIP_MODE_IMAGE;
    in.u.clip.tensor = u8_tensor(px, 4, (int64_t[]){1, 8, 8, 3});
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_int_equal(out.tensors[0].ndim, 1);
    assert_int_equal(out.tensors[0].shape[0], 16);
    infer_output_clear(&out);

    /* Text: float32 in whatever shape holds 77 x 16 values; only the named
     * output comes back, as [1,77,16]. */
    in.u.clip.mode = CLIP_MODE_TEXT;
    in.u.clip.tensor = (hdm_tensor){.dtype = HDM_DT_FLOAT32,
                                    .ndim = 3,
                                    .shape = {1, 77, 16},
                                    .data = tokens,
                                    .nbytes = 77 * 16 * 4};
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_int_equal(out.n_tensors, 1);
    assert_int_equal(out.tensors[0].ndim, 3);
    assert_true(out.tensors[0].shape[1] == 77 && out.tensors[0].shape[2] == 16);
    assert_int_equal(fake.last_input_size, 77 * 16 * 4); /* asked as float32 */
    infer_output_clear(&out);

    hdm_err_clear(&err);
    in.u.clip.tensor.nbytes = 76 * 16 * 4;
    in.u.clip.tensor.shape[1] = 76;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "1216 float32 values"));
    backend_hailort_ops.unload(b, m);

    /* A layer the HEF does not have: the message lists the ones it has. */
    spec = clip_spec("input_layer1", "output_layer9");
    assert_int_equal(backend_hailort_ops.load(b, &spec, &bad, NULL, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "model_params.text_output_layer \"output_layer9\""));
    assert_non_null(strstr(err.msg, "clip_text/output_layer1, clip_text/other"));
    assert_null(bad);
    assert_int_equal(fake.open_nets, 0);
    free(tokens);
    backend_hailort_ops.close(b);
}

static void test_ocr_batches(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    cJSON *recs = cJSON_CreateObject(), *batches = cJSON_CreateObject(), *info;
    cJSON_AddStringToObject(recs, "en", p_ocr_rec);
    cJSON_AddNumberToObject(batches, "en", 2);
    model_spec spec = {.kind = MODEL_OCR,
                       .model_path = p_ocr_det,
                       .ocr_detection_hef = p_ocr_det,
                       .ocr_recognition_hefs = recs,
                       .ocr_batch_sizes = batches};
    backend_model *m = load_ok(b, &spec, NULL);
    uint8_t crops_px[5][4 * 8 * 3];
    hdm_tensor crops[5];
    infer_input in = {.kind = MODEL_OCR};
    infer_output out = {0};
    hdm_err err;

    assert_int_equal(fake.last_batch_size, 2);
    info = cJSON_CreateObject();
    assert_int_equal(backend_hailort_ops.model_info(b, m, info), 0);
    const cJSON *shape = cJSON_GetObjectItem(info, "detection_input_shape");
    assert_int_equal(cJSON_GetArraySize(shape), 3);
    assert_int_equal(cJSON_GetArrayItem(shape, 0)->valueint, 16);
    assert_int_equal(cJSON_GetArrayItem(shape, 1)->valueint, 32);
    cJSON_Delete(info);

    for (int i = 0; i < 5; i++) {
        memset(crops_px[i], i + 1, sizeof(crops_px[i]));
        crops[i] = u8_tensor(crops_px[i], 3, (int64_t[]){4, 8, 3});
    }
    in.u.ocr.mode = OCR_MODE_RECOGNITION;
    snprintf(in.u.ocr.language, sizeof(in.u.ocr.language), "en");
    in.u.ocr.crops = crops;
    in.u.ocr.n_crops = 5;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    /* Batches of the language's batch size, in order. */
    assert_int_equal(fake.run_calls, 3);
    assert_true(fake.run_frames[0] == 2 && fake.run_frames[1] == 2 && fake.run_frames[2] == 1);
    assert_int_equal(cJSON_GetArraySize(out.result), 5);
    for (int i = 0; i < 5; i++) {
        int att = cJSON_GetObjectItem(cJSON_GetArrayItem(out.result, i), "attachment")->valueint;
        assert_true(((float *)out.tensors[att].data)[0] == (float)((i + 1) * 96));
    }
    infer_output_clear(&out);

    /* The request may ask for smaller batches. */
    fake.run_calls = 0;
    in.u.ocr.batch_size = 1;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_int_equal(fake.run_calls, 5);
    infer_output_clear(&out);

    hdm_err_clear(&err);
    snprintf(in.u.ocr.language, sizeof(in.u.ocr.language), "fr");
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "\"fr\" has no recognition model"));

    /* A bad crop names its index. */
    snprintf(in.u.ocr.language, sizeof(in.u.ocr.language), "en");
    crops[3] = u8_tensor(crops_px[3], 3, (int64_t[]){8, 4, 3});
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "input_data.crops[3]"));

    /* Detection runs the detection model. */
    uint8_t page[16 * 32 * 3] = {0};
    in.u.ocr.mode = OCR_MODE_DETECTION;
    in.u.ocr.image = u8_tensor(page, 3, (int64_t[]){16, 32, 3});
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_int_equal(out.tensors[0].shape[0], 16);
    infer_output_clear(&out);
    backend_hailort_ops.close(b);

    /* Batch sizes are checked at load. */
    b = open_ok(NULL);
    cJSON_ReplaceItemInObject(batches, "en", cJSON_CreateNumber(0));
    backend_model *bad = NULL;
    assert_int_equal(backend_hailort_ops.load(b, &spec, &bad, NULL, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "model_params.batch_sizes.en"));
    assert_int_equal(fake.open_nets, 0);
    backend_hailort_ops.close(b);
    cJSON_Delete(recs);
    cJSON_Delete(batches);
}

/* ---- VLM --------------------------------------------------------------------------- */

typedef struct stream_sink {
    char text[256];
    int calls;
    atomic_bool cancel;
    int cancel_after; /* set cancel after this many deltas (0: never) */
} stream_sink;

static void on_delta(void *ctx, const char *text, size_t len)
{
    stream_sink *s = ctx;
    strncat(s->text, text, len);
    if (++s->calls == s->cancel_after)
        atomic_store(&s->cancel, true);
}

static infer_input vlm_input(char *prompt)
{
    infer_input in;
    memset(&in, 0, sizeof(in));
    in.kind = MODEL_VLM;
    in.u.vlm.prompt = prompt;
    in.u.vlm.temperature = 0.7;
    in.u.vlm.top_p = 0.9;
    in.u.vlm.max_tokens = 50;
    return in;
}

static void test_vlm_stream_and_stop(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_VLM, .model_path = p_vlm};
    backend_model *m = load_ok(b, &spec, NULL);
    char *stops[] = {"END"};
    stream_sink sink = {.text = ""};
    infer_hooks hooks = {.on_delta = on_delta, .ctx = &sink, .cancelled = &sink.cancel};
    infer_input in = vlm_input("Say hello");
    infer_output out = {0};

    atomic_init(&sink.cancel, false);
    fake.tokens[0] = "Hello";
    fake.tokens[1] = " world";
    fake.tokens[2] = ". E";
    fake.tokens[3] = "ND and";
    fake.tokens[4] = " more";
    fake.n_tokens = 5;
    fake.prompt_tokens = 30;
    in.u.vlm.stop = stops;
    in.u.vlm.n_stop = 1;
    in.u.vlm.has_seed = true;
    in.u.vlm.seed = 42;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "Hello world. ");
    assert_string_equal(sink.text, "Hello world. "); /* the stream never showed "E" */
    assert_true(fake.aborted);
    assert_string_equal(out.finish_reason, "stop");
    assert_int_equal(out.prompt_tokens, 30);    /* context usage minus generated */
    assert_int_equal(out.completion_tokens, 2); /* the tokenizer on the text */
    assert_int_equal(fake.clear_calls, 1);
    assert_non_null(strstr(fake.messages_seen, "\"role\":\"user\""));
    assert_non_null(strstr(fake.messages_seen, "\"text\":\"Say hello\""));
    assert_true(fake.params_seen.has_seed && fake.params_seen.seed == 42);
    assert_true(fabsf(fake.params_seen.temperature - 0.7f) < 1e-6f);
    assert_int_equal(fake.params_seen.max_tokens, 50);
    infer_output_clear(&out);

    /* Ran out of tokens: "length". */
    fake.aborted = false;
    fake.n_tokens = 2;
    fake.gen_end = HRT_END_MAX_TOKENS;
    in.u.vlm.n_stop = 0;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "Hello world");
    assert_string_equal(out.finish_reason, "length");
    assert_false(fake.aborted);
    assert_int_equal(fake.clear_calls, 2);
    infer_output_clear(&out);
    backend_hailort_ops.close(b);
}

static void test_vlm_frames_cancel_and_errors(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_VLM, .model_path = p_vlm};
    backend_model *m = load_ok(b, &spec, NULL);
    uint8_t chw[3 * 4 * 4];
    hdm_tensor frame;
    stream_sink sink = {.text = "", .cancel_after = 1};
    infer_hooks hooks = {.on_delta = on_delta, .ctx = &sink, .cancelled = &sink.cancel};
    chat_message msgs[1] = {{.role = "user", .text = "What is it?", .n_images = 1}};
    infer_input in = vlm_input(NULL);
    infer_output out = {0};
    hdm_err err;

    for (int c = 0; c < 3; c++)
        memset(chw + c * 16, c + 1, 16);
    frame = u8_tensor(chw, 3, (int64_t[]){3, 4, 4});
    in.u.vlm.messages = msgs;
    in.u.vlm.n_messages = 1;
    in.u.vlm.frames = &frame;
    in.u.vlm.n_frames = 1;
    in.u.vlm.temperature = 0; /* greedy */
    atomic_init(&sink.cancel, false);
    fake.tokens[0] = "A";
    fake.tokens[1] = " cat";
    fake.tokens[2] = " sitting";
    fake.n_tokens = 3;

    /* Cancelled while streaming: stops, and the context is still cleared. */
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, &err), -HDM_E_CANCELLED);
    assert_null(out.result);
    assert_true(fake.aborted);
    assert_int_equal(fake.pieces_generated, 1);
    assert_int_equal(fake.clear_calls, 1);
    /* The frame reached the model in its HWC order. */
    assert_int_equal(fake.frames_seen, 1);
    assert_true(fake.first_frame_byte[0] == 1 && fake.first_frame_byte[1] == 2 &&
                fake.first_frame_byte[2] == 3);
    assert_non_null(strstr(fake.messages_seen, "{\"type\":\"image\"},{\"type\":\"text\""));
    assert_true(fake.params_seen.temperature <= 0.0f);

    /* A device timeout mid-generation. */
    fake.gen_status = FAKE_TIMEOUT;
    fake.gen_fail_after = 1;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(err.msg, "VLM generation"));
    assert_int_equal(fake.clear_calls, 2);
    fake.gen_status = 0;

    /* Frames that do not match the messages or the model. */
    in.u.vlm.n_frames = 0;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "1 image part(s) but 0 frame(s)"));
    in.u.vlm.n_frames = 1;
    frame = u8_tensor(chw, 3, (int64_t[]){4, 3, 4});
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "input_data.frames[0]"));

    /* The device goes away mid-generation: no context clearing on a lost device. */
    frame = u8_tensor(chw, 3, (int64_t[]){4, 4, 3});
    fake.gen_status = FAKE_DRIVER_OPERATION_FAILED;
    fake.gen_fail_after = 0;
    size_t clears = fake.clear_calls;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(fake.clear_calls, clears);
    backend_hailort_ops.close(b);
}

/* ---- whisper ------------------------------------------------------------------------ */

static void test_whisper(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_WHISPER, .model_path = p_whisper};
    backend_model *m = load_ok(b, &spec, NULL);
    float *audio = calloc(32000, sizeof(float));
    infer_input in = {.kind = MODEL_WHISPER};
    infer_output out = {0};
    hdm_err err;

    fake.segments[0].start = 0.0;
    fake.segments[0].end = 1.234;
    fake.segments[0].text = " Hallo";
    fake.segments[1].start = 1.234;
    fake.segments[1].end = 2.0;
    fake.segments[1].text = " Welt.";
    fake.n_segments = 2;
    in.u.whisper.audio = (hdm_tensor){.dtype = HDM_DT_FLOAT32,
                                      .ndim = 1,
                                      .shape = {32000},
                                      .data = audio,
                                      .nbytes = 32000 * sizeof(float)};
    snprintf(in.u.whisper.language, sizeof(in.u.whisper.language), "de");
    in.u.whisper.task = WHISPER_TRANSLATE;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_string_equal(fake.language_seen, "de");
    assert_true(fake.translate_seen);
    assert_int_equal(fake.samples_seen, 32000);
    assert_int_equal(fake.timeout_seen, 10000); /* 2 s of audio: the 10 s floor */
    const cJSON *segs = cJSON_GetObjectItem(out.result, "segments");
    assert_int_equal(cJSON_GetArraySize(segs), 2);
    const cJSON *s1 = cJSON_GetArrayItem(segs, 1);
    assert_int_equal(cJSON_GetObjectItem(s1, "id")->valueint, 1);
    assert_true(fabs(cJSON_GetObjectItem(s1, "start")->valuedouble - 1.23) < 1e-9);
    assert_string_equal(cJSON_GetObjectItem(s1, "text")->valuestring, " Welt.");
    infer_output_clear(&out);

    hdm_err_clear(&err);
    fake.s2t_status = FAKE_TIMEOUT;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(err.msg, "Speech2Text on 2.0 s of audio"));
    in.u.whisper.audio.dtype = HDM_DT_INT16;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    free(audio);
    backend_hailort_ops.close(b);
    assert_int_equal(fake.open_s2ts, 0);
}

/* With the manager's allowed directories, HailoRT is given /proc/self/fd/N
 * of the very file checked beneath them, never the path to open again. */
static void test_hef_opened_confined(void **state)
{
    (void)state;
    char dir[] = "/tmp/hdm-hrt-allow-XXXXXX", hef[64], link[64], name[128], got[16] = {0};
    assert_non_null(mkdtemp(dir));
    snprintf(hef, sizeof(hef), "%s/model.hef", dir);
    snprintf(link, sizeof(link), "%s/link.hef", dir);
    FILE *f = fopen(hef, "w");
    fputs("HEF bytes", f);
    fclose(f);
    assert_int_equal(symlink("/etc/hostname", link), 0);
    path_allowlist allow = {0};
    assert_int_equal(path_allowlist_parse(&allow, dir), 0);
    model_spec spec = {.kind = MODEL_DEPTH, .model_path = hef, .allow = &allow};
    backend_model m = {0};
    hdm_err err = {0};

    assert_int_equal(hrt_model_file(&spec, &m, hef, "model_path", name, sizeof(name), &err), 0);
    assert_memory_equal(name, "/proc/self/fd/", 14);
    FILE *g = fopen(name, "r");
    assert_non_null(g);
    assert_non_null(fgets(got, sizeof(got), g));
    fclose(g);
    assert_string_equal(got, "HEF bytes");
    assert_int_equal(m.n_files, 1);
    /* A symlink (to outside or not) is never followed. */
    assert_true(hrt_model_file(&spec, &m, link, "model_path", name, sizeof(name), &err) < 0);
    assert_int_equal(m.n_files, 1);
    /* Without allowed directories (tests), the path itself. */
    spec.allow = NULL;
    assert_int_equal(hrt_model_file(&spec, &m, hef, "model_path", name, sizeof(name), &err), 0);
    assert_string_equal(name, hef);

    for (size_t i = 0; i < m.n_files; i++)
        path_file_close(&m.files[i]);
    free(m.files);
    path_allowlist_free(&allow);
    unlink(link);
    unlink(hef);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hef_opened_confined),
        cmocka_unit_test_setup(test_open_without_device, setup),
        cmocka_unit_test_setup(test_open_group, setup),
        cmocka_unit_test_setup(test_identify_and_cache, setup),
        cmocka_unit_test_setup(test_footprint_measured, setup),
        cmocka_unit_test_setup(test_load_errors, setup),
        cmocka_unit_test_setup(test_llm_not_built, setup),
        cmocka_unit_test_setup(test_device_lost_and_reset, setup),
        cmocka_unit_test_setup(test_depth_layouts, setup),
        cmocka_unit_test_setup(test_pose_outputs_by_name, setup),
        cmocka_unit_test_setup(test_clip, setup),
        cmocka_unit_test_setup(test_ocr_batches, setup),
        cmocka_unit_test_setup(test_vlm_stream_and_stop, setup),
        cmocka_unit_test_setup(test_vlm_frames_cancel_and_errors, setup),
        cmocka_unit_test_setup(test_whisper, setup),
    };
    return cmocka_run_group_tests(tests, setup_files, teardown_files);
}
