/*
 * test_hailort_backend.c - the HailoRT backend's C code (backend-hailort.c,
 * hailort-dense.c, hailort-genai-glue.c) against the fake HailoRT of
 * hailort_fake_rt.c: device scan and open, the device status cache and its
 * thread, memory footprints, status mapping, device loss and bounded
 * resets, layouts and output orders, CLIP layer names, pose outputs, OCR
 * batching, buffers kept past a timeout, configured models re-created
 * after a failed run, VLM streaming/stop/cancel/special tokens/token
 * counts, and Speech2Text on its own thread.  Each defect of issue 22 has
 * a test here reproducing HailoRT's behaviour, and the two lanes (an
 * InferModel runs while a generation is in progress; a status refresh
 * queued across the other lane's load; a reset with both lanes' models
 * resident while a status query is queued; parallel_genai by
 * architecture); what needs the real chip is
 * covered by scripts/verify-hardware.sh on a Pi.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "hailort_fake_rt.h"
#include "backends/backend.h"
#include "backends/hailort-backend.h"

#define MIB (1024ull * 1024ull)

static char dir[64];
static char p_depth[128], p_depth_chw[128], p_pose[128], p_clip_img[128], p_clip_txt[128],
    p_ocr_det[128], p_ocr_rec[128], p_vlm[128], p_whisper[128], p_oom[128], p_orders[128],
    p_yuv[128], p_llm[128];

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
    write_file(p_orders, "yolo_orders.hef", 10);
    write_file(p_yuv, "yuv_input.hef", 10);
    write_file(p_llm, "Qwen2.5-1.5B-Instruct.hef", 10);
    return 0;
}

static int teardown_files(void **state)
{
    (void)state;
    const char *paths[] = {p_depth,   p_depth_chw, p_pose, p_clip_img, p_clip_txt,
                           p_ocr_det, p_ocr_rec,   p_vlm,  p_whisper,  p_oom,
                           p_orders,  p_yuv,       p_llm};
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
    /* Every output order parse-hef shows for detection/pose/segmentation
     * models; an FCR input (host side HWC). */
    h = fake_add_hef(p_orders, 30 * MIB);
    fake_stream(&h->in[h->n_in++], "yolo/input_layer1", 2, 2, 3, HRT_ORDER_FCR, HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "yolo/conv1", 2, 2, 8, HRT_ORDER_FCR, HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "yolo/conv2", 2, 3, 16, HRT_ORDER_F8CR, HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out++], "yolo/argmax", 4, 5, 1, HRT_ORDER_NHW, HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out], "yolo/nms", 1, 1, 1, HRT_ORDER_NMS_BY_CLASS, HRT_TYPE_FLOAT32);
    h->out[h->n_out++].frame_size = 80 * (1 + 5 * 4) * 4; /* 80 classes, 4 boxes each */
    h = fake_add_hef(p_yuv, 5 * MIB);
    fake_stream(&h->in[h->n_in++], "cam/input_layer1", 4, 4, 2, HRT_ORDER_YUY2, HRT_TYPE_UINT8);
    fake_stream(&h->out[h->n_out], "cam/nms", 1, 1, 1, HRT_ORDER_NMS_BY_SCORE, HRT_TYPE_UINT8);
    h->out[h->n_out++].frame_size = 2 + 100 * 12;
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

/* The polls below give up after 60 s of the clock (a busy machine or
 * qemu may be slow, never this slow). */
#define POLL_MS 60000

/* Waits (polling) until *counter reaches at least want. */
static bool wait_count(const int *counter, int want)
{
    const int64_t until = mono_ms() + POLL_MS;
    do {
        if (fake_count(counter) >= want)
            return true;
        sleep_ms(5);
    } while (mono_ms() < until);
    return false;
}

/* Issue 22 item 6: the status is asked of the device once at open, then
 * answered from the cache; an answer older than the TTL wakes the
 * background thread, never the caller. */
static void test_status_cached(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    device_info info;
    model_spec spec = {.kind = MODEL_DEPTH, .model_path = p_depth};

    assert_int_equal(fake_count(&fake.identify_calls), 1);
    assert_int_equal(fake_count(&fake.ram_calls), 1);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_string_equal(info.architecture, "HAILO10H");
    assert_string_equal(info.fw_version, "5.2.0");
    assert_string_equal(info.device_id, "0001:01:00.0");
    assert_true(fabs(info.temperature_celsius - 47.5) < 1e-9);
    assert_int_equal(info.memory_total_bytes, 8ull << 30);
    assert_int_equal(info.memory_used_bytes, 300 * MIB);
    assert_false(info.simulated);
    assert_int_equal(info.model_recreations, 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_int_equal(fake_count(&fake.identify_calls), 1);

    /* A load measures the memory after itself (the footprint): the cache has
     * it at once, and the RAM before came from the cache. */
    backend_model *m = load_ok(b, &spec, NULL);
    assert_int_equal(fake_count(&fake.ram_calls), 2);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_int_equal(info.memory_used_bytes, 400 * MIB);
    /* An unload wakes the refresher. */
    backend_hailort_ops.unload(b, m);
    assert_true(wait_count(&fake.ram_calls, 3));
    for (int64_t until = mono_ms() + POLL_MS;
         info.memory_used_bytes != 300 * MIB && mono_ms() < until;) {
        sleep_ms(5);
        assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    }
    assert_int_equal(info.memory_used_bytes, 300 * MIB);

    /* Stale: the answer is still the cached one, and the device is asked in
     * the background. */
    int before = fake_count(&fake.identify_calls);
    hrt_backend_set_status_ttl_ms(b, 0);
    fake.temperature = 51.0;
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_true(wait_count(&fake.identify_calls, before + 1));
    for (int64_t until = mono_ms() + POLL_MS;
         fabs(info.temperature_celsius - 51.0) > 1e-9 && mono_ms() < until;) {
        sleep_ms(5);
        assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    }
    assert_true(fabs(info.temperature_celsius - 51.0) < 1e-9);
    backend_hailort_ops.close(b);

    fake.has_temperature = false;
    fake.has_ram = false;
    b = open_ok(NULL);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_true(isnan(info.temperature_celsius));
    assert_int_equal(info.memory_total_bytes, 0);
    backend_hailort_ops.close(b);
}

/* Issue 22 item 6: query_performance_stats queued behind inference on the
 * chip (seconds) never holds up a status answer. */
static void test_status_never_waits(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    device_info info;

    hrt_backend_set_status_ttl_ms(b, 0);
    fake.ram_block = true;
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0); /* wakes the refresher */
    for (int64_t until = mono_ms() + POLL_MS; !fake_flag(&fake.ram_waiting) && mono_ms() < until;)
        sleep_ms(5);
    assert_true(fake_flag(&fake.ram_waiting)); /* the device query hangs ... */
    int64_t t0 = mono_ms();
    for (int i = 0; i < 100; i++) /* ... and status answers go on */
        assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_true(mono_ms() - t0 < 2000);
    assert_int_equal(info.memory_used_bytes, 300 * MIB);
    fake_unblock_ram();
    backend_hailort_ops.close(b);
}

/* Issue 22 item 6 with two lanes: a status refresh queued on the chip
 * while the other lane loads a model answers the RAM it sampled before the
 * load; it must not overwrite the newer figure the load measured after
 * itself (the status would show the model's memory as free for 20 s). */
static void test_status_refresh_racing_load(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    device_info info;
    model_spec spec = {.kind = MODEL_DEPTH, .model_path = p_depth};

    /* A refresh starts; its RAM query waits behind inference on the chip. */
    fake_hold_ram(1);
    hrt_backend_set_status_ttl_ms(b, 0);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_true(fake_wait_ram_held(1));
    hrt_backend_set_status_ttl_ms(b, 3600 * 1000);
    /* Meanwhile a load measures the memory after itself. */
    backend_model *m = load_ok(b, &spec, NULL);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_int_equal(info.memory_used_bytes, 400 * MIB);

    /* The queued query answers its old sample.  A second refresh, asked for
     * now and held in turn, shows when the first one has been stored. */
    fake_hold_ram(1);
    hrt_backend_set_status_ttl_ms(b, 0);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    hrt_backend_set_status_ttl_ms(b, 3600 * 1000);
    fake_release_ram_one();
    assert_true(fake_wait_ram_held(2));
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_int_equal(info.memory_used_bytes, 400 * MIB);
    assert_int_equal(info.memory_total_bytes, 8ull << 30);
    fake_release_ram_one();

    /* The unload's refresh has the memory back. */
    backend_hailort_ops.unload(b, m);
    for (int64_t until = mono_ms() + POLL_MS;
         info.memory_used_bytes != 300 * MIB && mono_ms() < until;) {
        sleep_ms(5);
        assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    }
    assert_int_equal(info.memory_used_bytes, 300 * MIB);
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

    /* No RAM figures (not a Hailo-10H): footprint unknown, load still works.
     * (The unloads woke the status thread: it reads the fake under its lock.) */
    pthread_mutex_lock(&fake.mu);
    fake.has_ram = false;
    pthread_mutex_unlock(&fake.mu);
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

    fake.genai_open_status = FAKE_OUT_OF_FW_MEMORY;
    assert_int_equal(backend_hailort_ops.load(b, &vlm, &m, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "cannot create the VLM from"));
    assert_int_equal(fake.open_nets, 0);
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
    /* A reset that cannot reopen the device fails, and can be retried (after
     * the back-off: test_reset_bounded). */
    hrt_backend_set_reset_backoff_ms(b, 0);
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

/* Issue 22 item 5: a reset that did not help is not repeated before a
 * growing back-off, so a cause a reset cannot fix never makes the registry
 * re-create the VDevice in a loop; any success ends the streak. */
static void test_reset_bounded(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec depth = {.kind = MODEL_DEPTH, .model_path = p_depth};
    uint8_t px[4 * 6 * 3] = {0};
    infer_input in = {.kind = MODEL_DEPTH};
    infer_output out = {0};
    hdm_err err;
    backend_model *m;

    in.u.dense.input = u8_tensor(px, 3, (int64_t[]){4, 6, 3});
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.reset(b, &err), 0);
    assert_int_equal(fake.opens, 2);
    /* No success since: the next reset waits for the back-off. */
    assert_int_equal(backend_hailort_ops.reset(b, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "not repeated yet"));
    assert_non_null(strstr(err.msg, "next attempt in 5 s"));
    assert_int_equal(fake.opens, 2); /* the device was not touched */
    /* A success ends the streak: the next reset is allowed at once. */
    m = load_ok(b, &depth, NULL);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    backend_hailort_ops.unload(b, m);
    assert_int_equal(backend_hailort_ops.reset(b, &err), 0);
    assert_int_equal(fake.opens, 3);
    /* The back-off doubles with every reset that did not help. */
    hrt_backend_set_reset_backoff_ms(b, 0);
    assert_int_equal(backend_hailort_ops.reset(b, &err), 0);
    hrt_backend_set_reset_backoff_ms(b, 5000);
    assert_int_equal(backend_hailort_ops.reset(b, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "2 in a row"));
    assert_non_null(strstr(err.msg, "next attempt in 10 s"));
    backend_hailort_ops.close(b);
}

static infer_input vlm_input(char *prompt);

typedef struct reset_run {
    backend *b;
    int rc;
} reset_run;

static void *reset_thread(void *arg)
{
    reset_run *r = arg;
    r->rc = backend_hailort_ops.reset(r->b, NULL);
    return NULL;
}

/* Two lanes: the dense lane loses the device while the GenAI lane's VLM is
 * resident and idle, and the status thread's RAM query is queued on the
 * chip.  The reset closes both lanes' models, waits for the query before
 * it frees the VDevice, status answers never wait for either, and both
 * lanes work again after it. */
static void test_reset_with_both_lanes(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec vspec = {.kind = MODEL_VLM, .model_path = p_vlm};
    model_spec dspec = {.kind = MODEL_DEPTH, .model_path = p_depth};
    backend_model *vlm = load_ok(b, &vspec, NULL), *depth = load_ok(b, &dspec, NULL);
    uint8_t px[4 * 6 * 3] = {0};
    infer_input in = {.kind = MODEL_DEPTH}, vin = vlm_input("Hi");
    infer_output out = {0};
    device_info info;
    reset_run run = {.b = b};
    pthread_t t;
    hdm_err err;

    in.u.dense.input = u8_tensor(px, 3, (int64_t[]){4, 6, 3});
    fake_hold_ram(1);
    hrt_backend_set_status_ttl_ms(b, 0);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_true(fake_wait_ram_held(1)); /* the status query waits on the chip */
    fake.run_status = FAKE_DRIVER_OPERATION_FAILED;
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.infer(b, depth, &in, NULL, &out, &err),
                     -HDM_E_DEVICE_ERROR);
    fake.run_status = 0;
    assert_true(hrt_backend_lost(b));

    /* The registry resets with no model in use (the VLM is idle). */
    assert_int_equal(pthread_create(&t, NULL, reset_thread, &run), 0);
    for (int64_t until = mono_ms() + POLL_MS; fake_ram_used() != 300 * MIB && mono_ms() < until;)
        sleep_ms(5);
    assert_int_equal(fake_ram_used(), 300 * MIB); /* both lanes' models closed */
    int64_t t0 = mono_ms();
    assert_int_equal(backend_hailort_ops.identify(b, &info, &err), -HDM_E_DEVICE_ERROR);
    assert_true(mono_ms() - t0 < 1000);
    fake_release_ram_one();
    pthread_join(t, NULL);
    assert_int_equal(run.rc, 0);
    assert_false(fake_flag(&fake.closed_during_query));
    assert_int_equal(fake_count(&fake.closes), 1);
    assert_int_equal(fake.open_genai, 0);
    assert_int_equal(fake.open_nets, 0);

    /* Both lanes again. */
    vlm = load_ok(b, &vspec, NULL);
    depth = load_ok(b, &dspec, NULL);
    assert_int_equal(backend_hailort_ops.infer(b, depth, &in, NULL, &out, NULL), 0);
    infer_output_clear(&out);
    fake.tokens[0] = "Hello";
    fake.n_tokens = 1;
    assert_int_equal(backend_hailort_ops.infer(b, vlm, &vin, NULL, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "Hello");
    infer_output_clear(&out);
    hrt_backend_set_status_ttl_ms(b, 3600 * 1000);
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

/* Issue 22 item 10: every output order parse-hef shows comes back with the
 * shape HailoRT's Python API gives it, never flattened when it has one; an
 * FCR input takes an HWC image; an order no image converts to is refused
 * by name. */
static void test_output_orders(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_POSE, .model_path = p_orders};
    backend_model *m = load_ok(b, &spec, NULL);
    uint8_t px[2 * 2 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    infer_input in = {.kind = MODEL_POSE};
    infer_output out = {0};
    hdm_err err;

    in.u.dense.input = u8_tensor(px, 3, (int64_t[]){2, 2, 3});
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_memory_equal(fake.last_input, px, sizeof(px)); /* FCR: HWC as given */
    const struct {
        const char *name;
        int ndim;
        int64_t shape[3];
        int dtype;
    } want[] = {
        {"yolo/conv1", 3, {2, 2, 8}, HDM_DT_FLOAT32},  /* FCR */
        {"yolo/conv2", 3, {2, 3, 16}, HDM_DT_FLOAT32}, /* F8CR */
        {"yolo/argmax", 2, {4, 5}, HDM_DT_FLOAT32},    /* NHW */
        {"yolo/nms", 1, {80 * 21}, HDM_DT_FLOAT32},    /* NMS by class: floats */
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const cJSON *t = cJSON_GetObjectItem(out.result, want[i].name);
        assert_non_null(t);
        const hdm_tensor *o = &out.tensors[cJSON_GetObjectItem(t, "attachment")->valueint];
        assert_int_equal(o->ndim, want[i].ndim);
        for (int d = 0; d < o->ndim; d++)
            assert_int_equal(o->shape[d], want[i].shape[d]);
        assert_int_equal(o->dtype, want[i].dtype);
    }
    infer_output_clear(&out);
    backend_hailort_ops.unload(b, m);

    /* NMS by score stays uint8 (HailoRT gives it only so); a YUY2 input is
     * not an image this backend converts to. */
    model_spec yuv = {.kind = MODEL_DEPTH, .model_path = p_yuv};
    m = load_ok(b, &yuv, NULL);
    uint8_t img[4 * 4 * 2] = {0};
    in.kind = MODEL_DEPTH;
    in.u.dense.input = u8_tensor(img, 3, (int64_t[]){4, 4, 2});
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "takes YUY2"));
    backend_hailort_ops.close(b);
}

static infer_input clip_image_input(uint8_t *px, int timeout_ms)
{
    infer_input in;
    memset(&in, 0, sizeof(in));
    in.kind = MODEL_CLIP;
    in.u.clip.mode = CLIP_MODE_IMAGE;
    in.u.clip.tensor = u8_tensor(px, 3, (int64_t[]){8, 8, 3});
    in.u.clip.timeout_ms = timeout_ms;
    return in;
}

/* Issue 22 item 3: after a wait that timed out HailoRT still writes the late
 * reply into the output buffers; the backend must not have freed them (ASan
 * sees the late writes).  The request's own timeout is the client's
 * deadline, not a device that stopped answering. */
static void test_timeout_keeps_buffers(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = clip_spec("input_layer1", "output_layer1");
    backend_model *m = load_ok(b, &spec, NULL);
    uint8_t px[8 * 8 * 3] = {0};
    infer_input in = clip_image_input(px, 1);
    infer_output out = {0};
    hdm_err err;

    fake.run_status = FAKE_TIMEOUT;
    fake.run_flags = HRT_RUN_KEPT;
    fake.run_failures = 20;
    for (int i = 0; i < 20; i++) {
        hdm_err_clear(&err);
        assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err),
                         -HDM_E_DEADLINE_EXCEEDED);
        assert_null(out.result);
        assert_non_null(strstr(err.msg, "within the 1 ms the request allowed"));
        assert_null(strstr(err.msg, "HAILO_TIMEOUT")); /* the registry's device-timeout mark */
    }
    assert_int_equal(fake.last_timeout_ms, 1);
    assert_int_equal(fake.n_kept, 20);
    assert_int_equal(fake_complete_late(), 20); /* writes into all 20 runs' outputs */
    assert_int_equal(fake.releases, 20);
    /* Normal CLIP then depth. */
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    model_spec depth = {.kind = MODEL_DEPTH, .model_path = p_depth};
    backend_model *d = load_ok(b, &depth, NULL);
    uint8_t dpx[4 * 6 * 3] = {0};
    infer_input din = {.kind = MODEL_DEPTH};
    din.u.dense.input = u8_tensor(dpx, 3, (int64_t[]){4, 6, 3});
    assert_int_equal(backend_hailort_ops.infer(b, d, &din, NULL, &out, &err), 0);
    infer_output_clear(&out);

    /* A kept run still pending at unload: the late reply comes with the
     * shutdown, into buffers still alive. */
    fake.run_status = FAKE_TIMEOUT;
    fake.run_failures = 1;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_int_equal(fake.n_kept, 1);
    backend_hailort_ops.unload(b, m);
    assert_int_equal(fake.late_writes, 21);
    assert_int_equal(fake.n_kept, 0);
    /* One pending at close: the shutdown's late reply, into buffers still alive. */
    fake.run_status = FAKE_TIMEOUT;
    fake.run_failures = 1;
    assert_int_equal(backend_hailort_ops.infer(b, d, &din, NULL, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(err.msg, "HAILO_TIMEOUT")); /* no deadline: the device's own limit */
    backend_hailort_ops.close(b);
    assert_int_equal(fake.releases, 22);
}

/* Issue 22 item 4: HailoRT shuts a configured model down after one failed
 * run (every later run fails); the backend configures it again, counted. */
static void test_failed_run_recreates(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec depth = {.kind = MODEL_DEPTH, .model_path = p_depth};
    backend_model *m = load_ok(b, &depth, NULL);
    uint8_t px[4 * 6 * 3] = {0};
    infer_input in = {.kind = MODEL_DEPTH};
    infer_output out = {0};
    device_info info;
    hdm_err err;
    int opens = fake.net_opens;

    in.u.dense.input = u8_tensor(px, 3, (int64_t[]){4, 6, 3});
    fake.run_status = FAKE_INVALID_ARGUMENT;
    fake.run_flags = HRT_RUN_NET_DOWN;
    fake.run_failures = 1;
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(fake.net_opens, opens + 1);
    assert_int_equal(fake.open_nets, 1);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_int_equal(info.model_recreations, 1);

    /* A net found shut down (STREAM_ABORT) is re-created too; a retry works. */
    fake.run_status = FAKE_STREAM_ABORT;
    fake.run_flags = 0;
    fake.run_failures = 1;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BUSY);
    assert_non_null(strstr(err.msg, "retry"));
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_int_equal(info.model_recreations, 2);

    /* Re-creation itself failing: tried again before the next run. */
    fake.run_status = FAKE_INTERNAL_FAILURE;
    fake.run_flags = HRT_RUN_NET_DOWN;
    fake.run_failures = 1;
    fake.hefs[0].open_status = FAKE_OUT_OF_FW_MEMORY;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_INTERNAL);
    assert_int_equal(fake.open_nets, 0);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err),
                     -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "again after HailoRT shut it down"));
    fake.hefs[0].open_status = 0;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
    assert_int_equal(info.model_recreations, 3);
    backend_hailort_ops.close(b);
}

/* Issue 22 item 5: statuses by cause.  HailoRT's INTERNAL_FAILURE,
 * STREAM_ABORT and SHUTDOWN_EVENT_SIGNALED are not a lost device. */
static void test_error_classes(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec depth = {.kind = MODEL_DEPTH, .model_path = p_depth};
    backend_model *m = load_ok(b, &depth, NULL);
    uint8_t px[4 * 6 * 3] = {0};
    infer_input in = {.kind = MODEL_DEPTH};
    infer_output out = {0};
    device_info info;
    hdm_err err;
    const int statuses[] = {FAKE_INTERNAL_FAILURE, FAKE_STREAM_ABORT, FAKE_SHUTDOWN_EVENT_SIGNALED};
    const int codes[] = {HDM_E_INTERNAL, HDM_E_BUSY, HDM_E_BUSY};

    in.u.dense.input = u8_tensor(px, 3, (int64_t[]){4, 6, 3});
    for (size_t i = 0; i < 3; i++) {
        fake.run_status = statuses[i];
        fake.run_failures = 1;
        hdm_err_clear(&err);
        assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -codes[i]);
        assert_false(hrt_backend_lost(b));
        assert_int_equal(backend_hailort_ops.identify(b, &info, NULL), 0);
        assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), 0);
        infer_output_clear(&out);
    }
    backend_hailort_ops.close(b);
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
    assert_true(fake.params_seen.set_seed && fake.params_seen.seed == 42);
    assert_true(fabsf(fake.params_seen.temperature - 0.7f) < 1e-6f);
    assert_true(fake.params_seen.set_do_sample && fake.params_seen.do_sample);
    assert_int_equal(fake.params_seen.max_tokens, 50);
    infer_output_clear(&out);

    /* Ran out of tokens: "length", and the recovery piece is not shown. */
    fake.aborted = false;
    fake.n_tokens = 2;
    fake.gen_end = HRT_GEN_MAX_TOKENS;
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
    assert_string_equal(sink.text, "A");
    assert_int_equal(fake.clear_calls, 1);
    /* The frame reached the model in its HWC order. */
    assert_int_equal(fake.frames_seen, 1);
    assert_true(fake.first_frame_byte[0] == 1 && fake.first_frame_byte[1] == 2 &&
                fake.first_frame_byte[2] == 3);
    assert_non_null(strstr(fake.messages_seen, "{\"type\":\"image\"},{\"type\":\"text\""));
    /* Greedy: sampling off (HailoRT refuses a temperature of 0). */
    assert_true(fake.params_seen.set_do_sample && !fake.params_seen.do_sample);
    assert_true(fake.params_seen.temperature > 0.0f);

    /* The device stops answering mid-generation and the deadline passes. */
    fake.gen_status = FAKE_TIMEOUT;
    fake.gen_fail_after = 1;
    infer_hooks late = {.deadline_ms = mono_ms() + 150};
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &late, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_int_equal(fake.clear_calls, 2);
    /* A read that fails mid-generation. */
    fake.gen_status = FAKE_INTERNAL_FAILURE;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_INTERNAL);
    assert_non_null(strstr(err.msg, "VLM generation"));
    assert_int_equal(fake.clear_calls, 3);
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

/* Issue 22 item 1: the chip's server decodes special tokens as text and
 * ends every answer with the end token, or after max-tokens/abort with the
 * recovery sequence: none of it reaches the answer or the stream. */
static void test_vlm_special_tokens(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_VLM, .model_path = p_vlm};
    backend_model *m;
    stream_sink sink = {.text = ""};
    infer_hooks hooks = {.on_delta = on_delta, .ctx = &sink};
    infer_input in = vlm_input("Describe");
    infer_output out = {0};

    fake.stop_tokens[2] = "</s>"; /* what this model reports */
    fake.stop_tokens[3] = "\n\n"; /* ordinary text: never stripped */
    m = load_ok(b, &spec, NULL);
    fake.tokens[0] = "A";
    fake.tokens[1] = " cat<|im_start|>";
    fake.tokens[2] = "</s>";
    fake.tokens[3] = ".\n\nDone";
    fake.n_tokens = 4;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "A cat.\n\nDone");
    assert_string_equal(sink.text, "A cat.\n\nDone");
    assert_null(strstr(sink.text, "<|"));
    assert_string_equal(out.finish_reason, "stop");
    infer_output_clear(&out);

    /* Max tokens: the recovery sequence comes as the last piece. */
    sink.text[0] = '\0';
    fake.gen_end = HRT_GEN_MAX_TOKENS;
    fake.recovery = "<|im_end|>";
    fake.n_tokens = 2;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "A cat");
    assert_string_equal(sink.text, "A cat");
    assert_string_equal(out.finish_reason, "length");
    infer_output_clear(&out);
    backend_hailort_ops.close(b);
}

/* Issue 22 item 9: counts are what the client received.  The host reads
 * ahead of the caller, so after a stop-string abort more tokens (and the
 * recovery sequence) sit in the context than were read: all are drained and
 * counted off the context usage; the end token is no completion token. */
static void test_vlm_token_counts(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_VLM, .model_path = p_vlm};
    backend_model *m = load_ok(b, &spec, NULL);
    char *stops[] = {"STOP"};
    infer_input in = vlm_input("Count");
    infer_output out = {0};
    static const char *words[] = {"one",  " two",   " STOP",  " four", " five",
                                  " six", " seven", " eight", " nine", " ten"};

    for (size_t i = 0; i < 10; i++)
        fake.tokens[i] = words[i];
    fake.n_tokens = 10;
    fake.prompt_tokens = 42;
    fake.runahead = 6; /* the reader had 6 more tokens when the abort came */
    in.u.vlm.stop = stops;
    in.u.vlm.n_stop = 1;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "one two ");
    assert_int_equal(out.prompt_tokens, 42);
    assert_int_equal(out.completion_tokens, 2);
    assert_int_equal(fake.pieces_read, 3 + 6 + 1); /* read, drained, recovery */
    infer_output_clear(&out);

    /* A logical end: the end token is in the context, not in the answer. */
    in.u.vlm.n_stop = 0;
    fake.n_tokens = 3;
    fake.tokens[2] = " three";
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "one two three");
    assert_int_equal(out.prompt_tokens, 42);
    assert_int_equal(out.completion_tokens, 3);
    infer_output_clear(&out);

    /* Max tokens: the recovery sequence is in the context too. */
    fake.gen_end = HRT_GEN_MAX_TOKENS;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_int_equal(out.prompt_tokens, 42);
    assert_int_equal(out.completion_tokens, 3);
    assert_string_equal(out.finish_reason, "length");
    infer_output_clear(&out);
    backend_hailort_ops.close(b);
}

static void cancel_on_third_read(size_t reads);
static atomic_bool prefill_cancel;
static void cancel_on_third_read(size_t reads)
{
    if (reads == 3)
        atomic_store(&prefill_cancel, true);
}

/* Issue 22 item 8: a long prefill gives no token for seconds; reads are
 * short slices and cancel and the deadline are checked on every one. */
static void test_vlm_prefill_cancel(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_VLM, .model_path = p_vlm};
    backend_model *m = load_ok(b, &spec, NULL);
    infer_hooks hooks = {.cancelled = &prefill_cancel};
    infer_input in = vlm_input("Describe at length");
    infer_output out = {0};
    hdm_err err;

    atomic_init(&prefill_cancel, false);
    fake.tokens[0] = "Late";
    fake.n_tokens = 1;
    fake.prefill_timeouts = 1000000; /* the first token never comes */
    fake.on_read = cancel_on_third_read;
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, &err), -HDM_E_CANCELLED);
    assert_int_equal(fake.reads, 3 + 1); /* noticed after the slice it was set in (+1 drain) */
    assert_true(fake.max_read_timeout <= 100);
    assert_int_equal(fake.abort_calls, 1);
    assert_int_equal(fake.clear_calls, 1);

    /* The deadline passes during the prefill. */
    fake.on_read = NULL;
    infer_hooks deadline = {.deadline_ms = mono_ms() + 200};
    int64_t t0 = mono_ms();
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &deadline, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_true(mono_ms() - t0 < 5000);
    assert_int_equal(fake.abort_calls, 2);
    backend_hailort_ops.close(b);
}

/* The manager's log while a load runs: stderr into a temporary file. */
typedef struct log_capture {
    FILE *file;
    int saved;
    char text[4096];
} log_capture;

static void capture_start(log_capture *c)
{
    c->file = tmpfile();
    assert_non_null(c->file);
    fflush(stderr);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->file), STDERR_FILENO) >= 0);
    log_set_level(LOG_LEVEL_INFO);
}

static const char *capture_end(log_capture *c)
{
    size_t n;
    log_set_level(LOG_LEVEL_ERROR);
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    rewind(c->file);
    n = fread(c->text, 1, sizeof(c->text) - 1, c->file);
    c->text[n] = '\0';
    fclose(c->file);
    return c->text;
}

/* Loads spec and returns what the backend logged meanwhile. */
static const char *load_logged(backend *b, model_spec *spec, backend_model **m, log_capture *c)
{
    capture_start(c);
    *m = load_ok(b, spec, NULL);
    return capture_end(c);
}

/* Issue 22 item 2: optimize_memory_on_device is off by default (HailoRT
 * answers NOT_IMPLEMENTED unless built with its client tokenizer); asked
 * for, it falls back to off when refused.  The log says which mode the
 * model runs in, and why it is not the one asked for. */
static void test_vlm_optimize_memory(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_VLM, .model_path = p_vlm};
    cJSON *params = cJSON_CreateObject();
    backend_model *m;
    hdm_err err;
    log_capture cap;
    const char *log;

    fake.optimize_status = FAKE_NOT_IMPLEMENTED;
    log = load_logged(b, &spec, &m, &cap);
    assert_int_equal(fake.genai_opens, 1);
    assert_false(fake.optimize_seen);
    assert_true(fake.vlm_seen);
    assert_non_null(strstr(log, "optimize_memory_on_device off (tokenizer on the device)"));
    assert_null(strstr(log, "refused"));
    backend_hailort_ops.unload(b, m);

    cJSON_AddTrueToObject(params, "optimize_memory_on_device");
    spec.params = params;
    log = load_logged(b, &spec, &m, &cap);
    assert_int_equal(fake.genai_opens, 3); /* asked for, refused, loaded without */
    assert_false(fake.optimize_seen);
    assert_non_null(strstr(log, "optimize_memory_on_device refused by HailoRT "
                                "(HAILO_NOT_IMPLEMENTED)"));
    assert_non_null(strstr(log, "optimize_memory_on_device off (tokenizer on the device)"));
    backend_hailort_ops.unload(b, m);
    /* The chip has the HEF already: refused the same way. */
    fake.optimize_status = FAKE_INVALID_OPERATION;
    log = load_logged(b, &spec, &m, &cap);
    assert_false(fake.optimize_seen);
    assert_non_null(strstr(log, "(HAILO_INVALID_OPERATION)"));
    backend_hailort_ops.unload(b, m);
    fake.optimize_status = 0;
    log = load_logged(b, &spec, &m, &cap);
    assert_true(fake.optimize_seen);
    assert_non_null(strstr(log, "optimize_memory_on_device on (tokenizer on the host)"));
    backend_hailort_ops.unload(b, m);

    /* The LLM the same way. */
    model_spec llm = {.kind = MODEL_LLM, .model_path = p_llm, .params = params};
    fake.optimize_status = FAKE_NOT_IMPLEMENTED;
    log = load_logged(b, &llm, &m, &cap);
    assert_false(fake.optimize_seen);
    assert_false(fake.vlm_seen);
    assert_non_null(strstr(log, "LLM"));
    assert_non_null(strstr(log, "optimize_memory_on_device off (tokenizer on the device)"));
    backend_hailort_ops.unload(b, m);
    fake.optimize_status = 0;

    cJSON_ReplaceItemInObject(params, "optimize_memory_on_device", cJSON_CreateString("yes"));
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.load(b, &spec, &m, NULL, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "optimize_memory_on_device"));
    cJSON_Delete(params);
    backend_hailort_ops.close(b);
}

/* Issue 22 item 5: a chat template refusing the client's messages is the
 * client's error; a GenAI session the chip's server drops while the device
 * answers (another process holds the KV cache) is busy, never a lost
 * device a reset would not fix. */
static void test_genai_errors_by_cause(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_VLM, .model_path = p_vlm};
    backend_model *m = load_ok(b, &spec, NULL), *m2 = NULL;
    infer_input in = vlm_input("Hi");
    infer_output out = {0};
    hdm_err err;

    fake.start_status = FAKE_INTERNAL_FAILURE;
    fake.start_stage = HRT_START_TEMPLATE;
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "chat template"));
    assert_non_null(strstr(err.msg, "HAILO_INTERNAL_FAILURE"));
    assert_false(hrt_backend_lost(b));
    assert_int_equal(fake.clear_calls, 1);
    /* The same status from the device side is HailoRT's own failure. */
    fake.start_stage = HRT_START_DEVICE;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_INTERNAL);
    assert_false(hrt_backend_lost(b));
    fake.start_status = 0;
    backend_hailort_ops.unload(b, m);

    /* Another process holds the KV cache: every attempt is dropped. */
    fake.genai_open_status = FAKE_COMMUNICATION_CLOSED;
    int opens = fake.genai_opens;
    assert_int_equal(backend_hailort_ops.load(b, &spec, &m2, NULL, &err), -HDM_E_BUSY);
    assert_non_null(strstr(err.msg, "another process holds the GenAI KV-cache slot"));
    assert_non_null(strstr(err.msg, "HAILO_COMMUNICATION_CLOSED"));
    assert_int_equal(fake.genai_opens - opens, 3);
    assert_false(hrt_backend_lost(b));
    /* Dropped once (our own last session closing): the retry loads it. */
    fake.genai_open_failures = 1;
    m = load_ok(b, &spec, NULL);
    backend_hailort_ops.unload(b, m);
    /* Dropped while the device does not answer either: lost. */
    fake.genai_open_status = FAKE_COMMUNICATION_CLOSED;
    fake.genai_open_failures = 0;
    pthread_mutex_lock(&fake.mu); /* the unload's status refresh may be running */
    fake.identify_status = FAKE_DRIVER_OPERATION_FAILED;
    pthread_mutex_unlock(&fake.mu);
    assert_int_equal(backend_hailort_ops.load(b, &spec, &m2, NULL, &err), -HDM_E_DEVICE_ERROR);
    assert_true(hrt_backend_lost(b));
    backend_hailort_ops.close(b);
}

/* ---- LLM ------------------------------------------------------------------------------ */

static infer_input llm_input_of(llm_message *msgs, size_t n)
{
    infer_input in;
    memset(&in, 0, sizeof(in));
    in.kind = MODEL_LLM;
    in.u.llm.messages = msgs;
    in.u.llm.n_messages = n;
    return in;
}

/* Issue 18: the llm model type on HailoRT's LLM: structured messages (tool
 * calls and answers included) and tools through the model's own template,
 * sampling as LLMGeneratorParams (unset fields keep the model's defaults),
 * streaming with stop strings, special tokens stripped, counts as the VLM. */
static void test_llm_chat(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_LLM, .model_path = p_llm};
    uint64_t fp = 0;
    backend_model *m = load_ok(b, &spec, &fp);
    cJSON *calls = cJSON_Parse("[{\"function\": {\"name\": \"weather\", \"arguments\": "
                               "{\"city\": \"Oslo\"}}}]");
    cJSON *tools = cJSON_Parse("[{\"type\": \"function\", \"function\": {\"name\": \"weather\", "
                               "\"description\": \"Weather of a city\", \"parameters\": "
                               "{\"type\": \"object\"}}}]");
    llm_message msgs[] = {
        {.role = LLM_ROLE_SYSTEM, .content = "Be brief."},
        {.role = LLM_ROLE_USER, .content = "Weather in Oslo?"},
        {.role = LLM_ROLE_ASSISTANT, .content = "", .tool_calls = calls},
        {.role = LLM_ROLE_TOOL, .content = "{\"temp\": 3}", .tool_name = "weather"},
        {.role = LLM_ROLE_USER, .content = "And tomorrow?"},
    };
    char *stops[] = {"\nUser:"};
    stream_sink sink = {.text = ""};
    infer_hooks hooks = {.on_delta = on_delta, .ctx = &sink};
    infer_input in = llm_input_of(msgs, 5);
    infer_output out = {0};

    assert_int_equal(fp, 3ull << 30);
    assert_false(fake.vlm_seen);
    in.u.llm.tools = tools;
    in.u.llm.has_temperature = true;
    in.u.llm.temperature = 0.2;
    in.u.llm.has_top_k = true;
    in.u.llm.top_k = 40;
    in.u.llm.has_seed = true;
    in.u.llm.seed = 7;
    in.u.llm.max_tokens = 64;
    in.u.llm.stop = stops;
    in.u.llm.n_stop = 1;
    fake.tokens[0] = "Cold";
    fake.tokens[1] = " again.";
    fake.tokens[2] = "\nUs";
    fake.tokens[3] = "er: more";
    fake.n_tokens = 4;
    fake.prompt_tokens = 120;
    fake.runahead = 2;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "Cold again.");
    assert_string_equal(sink.text, "Cold again.");
    assert_string_equal(out.finish_reason, "stop");
    assert_int_equal(out.prompt_tokens, 120);
    assert_int_equal(out.completion_tokens, 2);
    /* What the template got: roles in order, the call typed, the tool's name. */
    assert_non_null(strstr(fake.messages_seen, "{\"role\":\"system\",\"content\":\"Be brief.\"}"));
    assert_non_null(strstr(fake.messages_seen, "\"tool_calls\":[{\"function\":{\"name\":"
                                               "\"weather\",\"arguments\":{\"city\":\"Oslo\"}},"
                                               "\"type\":\"function\"}]"));
    assert_non_null(strstr(fake.messages_seen, "{\"role\":\"tool\",\"content\":\"{\\\"temp\\\": "
                                               "3}\",\"name\":\"weather\"}"));
    assert_non_null(strstr(fake.tools_seen, "\"name\":\"weather\""));
    assert_string_equal(fake.raw_seen, "");
    /* Sampling: what was given, and nothing else. */
    assert_true(fake.params_seen.set_temperature &&
                fabsf(fake.params_seen.temperature - 0.2f) < 1e-6f);
    assert_true(fake.params_seen.set_do_sample && fake.params_seen.do_sample);
    assert_true(fake.params_seen.set_top_k && fake.params_seen.top_k == 40);
    assert_true(fake.params_seen.set_seed && fake.params_seen.seed == 7);
    assert_false(fake.params_seen.set_top_p);
    assert_false(fake.params_seen.set_frequency_penalty);
    assert_int_equal(fake.params_seen.max_tokens, 64);
    assert_int_equal(fake.clear_calls, 1);
    infer_output_clear(&out);

    /* Defaults: nothing set; temperature 0 is greedy; the end token unseen. */
    in.u.llm.tools = NULL;
    in.u.llm.has_top_k = in.u.llm.has_seed = false;
    in.u.llm.temperature = 0;
    in.u.llm.max_tokens = 0;
    in.u.llm.n_stop = 0;
    fake.runahead = 0;
    fake.n_tokens = 2;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "Cold again.");
    assert_true(fake.params_seen.set_do_sample && !fake.params_seen.do_sample);
    assert_int_equal(fake.params_seen.max_tokens, 0);
    assert_int_equal(out.prompt_tokens, 120);
    assert_string_equal(fake.tools_seen, "");
    infer_output_clear(&out);
    cJSON_Delete(calls);
    cJSON_Delete(tools);
    backend_hailort_ops.close(b);
}

/* A raw prompt is written as is (no template); format "json" cannot be
 * honoured by HailoRT's LLM: unsupported, before the device is asked; the
 * LLM and the VLM share the one GenAI slot. */
static void test_llm_raw_json_and_slot(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_LLM, .model_path = p_llm};
    model_spec vlm = {.kind = MODEL_VLM, .model_path = p_vlm};
    backend_model *m = load_ok(b, &spec, NULL), *v = NULL;
    infer_input in = llm_input_of(NULL, 0);
    infer_output out = {0};
    hdm_err err;

    in.u.llm.prompt = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
    fake.tokens[0] = "Hello";
    fake.n_tokens = 1;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_string_equal(fake.raw_seen, in.u.llm.prompt);
    assert_string_equal(fake.messages_seen, "");
    assert_string_equal(out.result->valuestring, "Hello");
    infer_output_clear(&out);

    /* Issue 22 item 1 for the LLM: special tokens stripped from every piece,
     * the recovery piece after max tokens never shown, and not counted. */
    stream_sink sink = {.text = ""};
    infer_hooks hooks = {.on_delta = on_delta, .ctx = &sink};
    fake.tokens[0] = "Hi";
    fake.tokens[1] = " there<|endoftext|>";
    fake.n_tokens = 2;
    fake.gen_end = HRT_GEN_MAX_TOKENS;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, NULL), 0);
    assert_string_equal(out.result->valuestring, "Hi there");
    assert_string_equal(sink.text, "Hi there");
    assert_string_equal(out.finish_reason, "length");
    assert_int_equal(out.completion_tokens, 2);
    infer_output_clear(&out);
    fake.gen_end = HRT_GEN_LOGICAL_END;

    in.u.llm.format = LLM_FORMAT_JSON;
    size_t reads = fake.reads;
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "format \"json\""));
    assert_int_equal(fake.reads, reads);
    in.u.llm.format = LLM_FORMAT_TEXT;

    /* HailoRT 5.1 takes messages but no tools: unsupported, saying so. */
    llm_message msgs[] = {{.role = LLM_ROLE_USER, .content = "Weather?"}};
    cJSON *tools = cJSON_Parse("[{\"type\": \"function\", \"function\": {\"name\": "
                               "\"weather\", \"parameters\": {\"type\": \"object\"}}}]");
    infer_input tin = llm_input_of(msgs, 1);
    tin.u.llm.tools = tools;
    fake.start_status = FAKE_NOT_IMPLEMENTED;
    assert_int_equal(backend_hailort_ops.infer(b, m, &tin, NULL, &out, &err), -HDM_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "takes no tools (HailoRT 5.2 or later does)"));
    assert_false(hrt_backend_lost(b));
    fake.start_status = 0;
    cJSON_Delete(tools);

    assert_int_equal(backend_hailort_ops.load(b, &vlm, &v, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_null(v);
    backend_hailort_ops.unload(b, m);
    v = load_ok(b, &vlm, NULL);
    backend_hailort_ops.close(b);
}

/* The LLM's template refusing the conversation is the client's error, and
 * cancel is noticed during its prefill as for the VLM. */
static void test_llm_refusal_and_cancel(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_LLM, .model_path = p_llm};
    backend_model *m = load_ok(b, &spec, NULL);
    llm_message msgs[] = {{.role = LLM_ROLE_ASSISTANT, .content = "first?"}};
    infer_input in = llm_input_of(msgs, 1);
    infer_output out = {0};
    infer_hooks hooks = {.cancelled = &prefill_cancel};
    hdm_err err;

    fake.start_status = FAKE_INVALID_OPERATION;
    fake.start_stage = HRT_START_TEMPLATE;
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "LLM generation"));
    assert_non_null(strstr(err.msg, "chat template"));
    assert_false(hrt_backend_lost(b));
    fake.start_status = 0;

    atomic_store(&prefill_cancel, false);
    fake.tokens[0] = "x";
    fake.n_tokens = 1;
    fake.prefill_timeouts = 1000000;
    fake.on_read = cancel_on_third_read;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, &err), -HDM_E_CANCELLED);
    assert_int_equal(fake.abort_calls, 1);
    assert_int_equal(fake.reads, 3 + 1); /* noticed after the slice it was set in (+1 drain) */
    assert_true(fake.max_read_timeout <= 100);
    assert_int_equal(fake.clear_calls, 2); /* after the refusal too */
    fake.on_read = NULL;

    /* Issue 22 item 8 for the LLM: the deadline passes during its prefill. */
    infer_hooks deadline = {.deadline_ms = mono_ms() + 200};
    int64_t t0 = mono_ms();
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &deadline, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_true(mono_ms() - t0 < 5000);
    assert_int_equal(fake.abort_calls, 2);
    assert_true(fake.max_read_timeout <= 100);
    assert_int_equal(fake.clear_calls, 3);
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

/* Issue 22 item 7: no language (or the original stack's "auto") passes
 * none, so the model detects it and translate works. */
static void test_whisper_language(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_WHISPER, .model_path = p_whisper};
    backend_model *m = load_ok(b, &spec, NULL);
    float audio[1600] = {0};
    infer_input in = {.kind = MODEL_WHISPER};
    infer_output out = {0};

    in.u.whisper.audio = (hdm_tensor){.dtype = HDM_DT_FLOAT32,
                                      .ndim = 1,
                                      .shape = {1600},
                                      .data = audio,
                                      .nbytes = sizeof(audio)};
    in.u.whisper.task = WHISPER_TRANSLATE;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_string_equal(fake.language_seen, "(none)");
    assert_true(fake.translate_seen);
    infer_output_clear(&out);
    snprintf(in.u.whisper.language, sizeof(in.u.whisper.language), "auto");
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_string_equal(fake.language_seen, "(none)");
    infer_output_clear(&out);
    snprintf(in.u.whisper.language, sizeof(in.u.whisper.language), "en");
    in.u.whisper.task = WHISPER_TRANSCRIBE;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, NULL), 0);
    assert_string_equal(fake.language_seen, "en");
    assert_false(fake.translate_seen);
    infer_output_clear(&out);
    backend_hailort_ops.close(b);
}

/* Issue 22 item 7: Speech2Text in HailoRT 5.2 ignores its timeout and
 * blocks; cancel and the deadline still answer at once, the transcription
 * finishes in the background and the model's next request waits for it. */
static void test_whisper_blocking_call(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec spec = {.kind = MODEL_WHISPER, .model_path = p_whisper};
    backend_model *m = load_ok(b, &spec, NULL);
    float *audio = calloc(16000, sizeof(float));
    atomic_bool cancel;
    infer_hooks hooks = {.cancelled = &cancel};
    infer_input in = {.kind = MODEL_WHISPER};
    infer_output out = {0};
    hdm_err err;

    atomic_init(&cancel, false);
    fake.segments[0].end = 1.0;
    fake.segments[0].text = " Hi.";
    fake.n_segments = 1;
    in.u.whisper.audio = (hdm_tensor){.dtype = HDM_DT_FLOAT32,
                                      .ndim = 1,
                                      .shape = {16000},
                                      .data = audio,
                                      .nbytes = 16000 * sizeof(float)};
    fake.s2t_block = true;
    fake.s2t_cancel_on_start = &cancel; /* the client hangs up once it started */
    hdm_err_clear(&err);
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, &err), -HDM_E_CANCELLED);
    assert_true(fake_flag(&fake.s2t_running)); /* HailoRT is still at it */
    free(audio); /* the request is over: the thread reads its own copy */
    audio = calloc(16000, sizeof(float));
    in.u.whisper.audio.data = audio;

    /* The next request waits for it, within its own deadline. */
    fake.s2t_cancel_on_start = NULL;
    infer_hooks soon = {.deadline_ms = mono_ms() + 150};
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &soon, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(err.msg, "still finishing a request that gave up"));
    assert_int_equal(fake_count(&fake.s2t_calls), 1);
    fake_s2t_release();
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, NULL, &out, &err), 0);
    assert_int_equal(fake_count(&fake.s2t_calls), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out.result, "segments")), 1);
    infer_output_clear(&out);

    /* Unloading while one runs waits for it (HailoRT cannot release mid-call). */
    fake.s2t_block = true;
    atomic_store(&cancel, false);
    fake.s2t_cancel_on_start = &cancel;
    assert_int_equal(backend_hailort_ops.infer(b, m, &in, &hooks, &out, &err), -HDM_E_CANCELLED);
    fake_s2t_release();
    backend_hailort_ops.unload(b, m);
    assert_false(fake_flag(&fake.s2t_running));
    assert_int_equal(fake.open_s2ts, 0);
    free(audio);
    backend_hailort_ops.close(b);
}

/* With the manager's allowed directories, HailoRT is given /proc/self/fd/N
 * of the very file checked beneath them, never the path to open again. */
/* ---- lanes ----------------------------------------------------------------------- */

static void test_parallel_genai_by_architecture(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    assert_non_null(backend_hailort_ops.parallel_genai);
    assert_true(backend_hailort_ops.parallel_genai(b)); /* Hailo-10H */
    backend_hailort_ops.close(b);
    fake.architecture = "HAILO8L";
    b = open_ok(NULL);
    assert_false(backend_hailort_ops.parallel_genai(b));
    backend_hailort_ops.close(b);
}

/* The GenAI lane's thread, stopped inside its generation until the dense
 * lane has run an inference. */
typedef struct lane_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool generating, dense_done;
    int deltas;
} lane_gate;

static void gate_delta(void *ctx, const char *text, size_t len)
{
    lane_gate *g = ctx;
    (void)text;
    (void)len;
    pthread_mutex_lock(&g->mu);
    if (g->deltas++ == 0) {
        g->generating = true;
        pthread_cond_broadcast(&g->cv);
        while (!g->dense_done)
            pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

typedef struct genai_run {
    backend *b;
    backend_model *m;
    lane_gate *gate;
    infer_output out;
    int rc;
} genai_run;

static void *genai_lane(void *arg)
{
    genai_run *r = arg;
    infer_hooks hooks = {.on_delta = gate_delta, .ctx = r->gate};
    infer_input in = vlm_input("Describe");
    r->rc = backend_hailort_ops.infer(r->b, r->m, &in, &hooks, &r->out, NULL);
    return NULL;
}

static void test_dense_runs_while_generating(void **state)
{
    (void)state;
    backend *b = open_ok(NULL);
    model_spec vspec = {.kind = MODEL_VLM, .model_path = p_vlm};
    model_spec dspec = {.kind = MODEL_DEPTH, .model_path = p_depth};
    backend_model *vlm = load_ok(b, &vspec, NULL), *depth = load_ok(b, &dspec, NULL);
    lane_gate gate = {.generating = false};
    genai_run run = {.b = b, .m = vlm, .gate = &gate};
    uint8_t px[4 * 6 * 3] = {0};
    infer_input in = {.kind = MODEL_DEPTH};
    infer_output out = {0};
    pthread_t t;

    pthread_mutex_init(&gate.mu, NULL);
    pthread_cond_init(&gate.cv, NULL);
    fake.tokens[0] = "A";
    fake.tokens[1] = " quiet";
    fake.tokens[2] = " room";
    fake.n_tokens = 3;
    assert_int_equal(pthread_create(&t, NULL, genai_lane, &run), 0);
    pthread_mutex_lock(&gate.mu);
    while (!gate.generating)
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);

    /* The generation is in progress on the other thread: nothing in the
     * backend makes the dense lane wait for it. */
    in.u.dense.input = u8_tensor(px, 3, (int64_t[]){4, 6, 3});
    assert_int_equal(backend_hailort_ops.infer(b, depth, &in, NULL, &out, NULL), 0);
    assert_int_equal(out.n_tensors, 1);
    infer_output_clear(&out);

    pthread_mutex_lock(&gate.mu);
    gate.dense_done = true;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
    pthread_join(t, NULL);
    assert_int_equal(run.rc, 0);
    assert_string_equal(run.out.result->valuestring, "A quiet room");
    assert_int_equal(gate.deltas, 3);
    infer_output_clear(&run.out);
    pthread_cond_destroy(&gate.cv);
    pthread_mutex_destroy(&gate.mu);
    backend_hailort_ops.unload(b, depth);
    backend_hailort_ops.unload(b, vlm);
    backend_hailort_ops.close(b);
}

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
        cmocka_unit_test_setup(test_status_cached, setup),
        cmocka_unit_test_setup(test_status_never_waits, setup),
        cmocka_unit_test_setup(test_status_refresh_racing_load, setup),
        cmocka_unit_test_setup(test_footprint_measured, setup),
        cmocka_unit_test_setup(test_load_errors, setup),
        cmocka_unit_test_setup(test_device_lost_and_reset, setup),
        cmocka_unit_test_setup(test_reset_bounded, setup),
        cmocka_unit_test_setup(test_reset_with_both_lanes, setup),
        cmocka_unit_test_setup(test_depth_layouts, setup),
        cmocka_unit_test_setup(test_pose_outputs_by_name, setup),
        cmocka_unit_test_setup(test_clip, setup),
        cmocka_unit_test_setup(test_ocr_batches, setup),
        cmocka_unit_test_setup(test_output_orders, setup),
        cmocka_unit_test_setup(test_timeout_keeps_buffers, setup),
        cmocka_unit_test_setup(test_failed_run_recreates, setup),
        cmocka_unit_test_setup(test_error_classes, setup),
        cmocka_unit_test_setup(test_vlm_stream_and_stop, setup),
        cmocka_unit_test_setup(test_vlm_frames_cancel_and_errors, setup),
        cmocka_unit_test_setup(test_vlm_special_tokens, setup),
        cmocka_unit_test_setup(test_vlm_token_counts, setup),
        cmocka_unit_test_setup(test_vlm_prefill_cancel, setup),
        cmocka_unit_test_setup(test_vlm_optimize_memory, setup),
        cmocka_unit_test_setup(test_genai_errors_by_cause, setup),
        cmocka_unit_test_setup(test_llm_chat, setup),
        cmocka_unit_test_setup(test_llm_raw_json_and_slot, setup),
        cmocka_unit_test_setup(test_llm_refusal_and_cancel, setup),
        cmocka_unit_test_setup(test_whisper, setup),
        cmocka_unit_test_setup(test_whisper_language, setup),
        cmocka_unit_test_setup(test_whisper_blocking_call, setup),
        cmocka_unit_test_setup(test_parallel_genai_by_architecture, setup),
        cmocka_unit_test_setup(test_dense_runs_while_generating, setup),
    };
    return cmocka_run_group_tests(tests, setup_files, teardown_files);
}
