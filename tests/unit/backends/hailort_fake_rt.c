/*
 * hailort_fake_rt.c - the fake HailoRT of hailort_fake_rt.h.  Outputs are a
 * pure function of the inputs (output value 0 is the byte sum of the
 * frame's inputs, value k is k + 100 * output index) so tests can check
 * which frame went where.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hailort_fake_rt.h"

fake_rt fake;

struct hrt_device {
    int unused;
};
struct hrt_net {
    hrt_stream_info in[FAKE_MAX_STREAMS], out[FAKE_MAX_STREAMS];
    size_t n_in, n_out;
    uint64_t footprint;
};
struct hrt_vlm {
    uint64_t footprint;
};
struct hrt_s2t {
    int unused;
};

void fake_reset(void)
{
    free(fake.last_input);
    memset(&fake, 0, sizeof(fake));
    fake.n_devices = 1;
    fake.has_temperature = true;
    fake.temperature = 47.5;
    fake.has_ram = true;
    fake.ram_total = 8ull << 30;
    fake.ram_used = 300ull << 20;
    fake.gen_end = HRT_END_LOGICAL;
    fake.vlm_footprint = 3ull << 30;
    fake_stream(&fake.vlm_frame, "frame", 336, 336, 3, HRT_ORDER_NHWC, HRT_TYPE_UINT8);
}

fake_hef *fake_add_hef(const char *path, uint64_t footprint)
{
    fake_hef *h = &fake.hefs[fake.n_hefs++];
    memset(h, 0, sizeof(*h));
    snprintf(h->path, sizeof(h->path), "%s", path);
    h->footprint = footprint;
    return h;
}

static size_t type_size(hrt_type t)
{
    return t == HRT_TYPE_FLOAT32 ? 4 : t == HRT_TYPE_UINT16 ? 2 : 1;
}

void fake_stream(hrt_stream_info *s, const char *name, uint32_t h, uint32_t w, uint32_t f,
                 hrt_order order, hrt_type type)
{
    char copy[sizeof(s->name)];
    snprintf(copy, sizeof(copy), "%s", name); /* name may be s->name itself */
    memset(s, 0, sizeof(*s));
    memcpy(s->name, copy, sizeof(copy));
    s->height = h;
    s->width = w;
    s->features = f;
    s->order = order;
    s->type = type;
    s->frame_size = (size_t)h * w * f * type_size(type);
}

/* ---- C API ------------------------------------------------------------------ */

const char *hrt_status_name(int status)
{
    switch (status) {
    case 0:
        return "HAILO_SUCCESS";
    case FAKE_TIMEOUT:
        return "HAILO_TIMEOUT";
    case FAKE_OPEN_FILE_FAILURE:
        return "HAILO_OPEN_FILE_FAILURE";
    case FAKE_DRIVER_OPERATION_FAILED:
        return "HAILO_DRIVER_OPERATION_FAILED";
    case FAKE_OUT_OF_FW_MEMORY:
        return "HAILO_OUT_OF_FW_MEMORY";
    case FAKE_DEVICE_IN_USE:
        return "HAILO_DEVICE_IN_USE";
    default:
        return NULL;
    }
}

int hrt_scan_devices(size_t *count, char *first_id, size_t id_size)
{
    if (fake.scan_status)
        return fake.scan_status;
    *count = fake.n_devices;
    snprintf(first_id, id_size, "%s", fake.n_devices ? "0001:01:00.0" : "");
    return 0;
}

int hrt_library_version(char *buf, size_t size)
{
    snprintf(buf, size, "5.2.0");
    return 0;
}

/* ---- device -------------------------------------------------------------------- */

int hrt_device_open(const char *group_id, hrt_device **out)
{
    if (fake.open_status)
        return fake.open_status;
    snprintf(fake.group_id, sizeof(fake.group_id), "%s", group_id);
    *out = calloc(1, sizeof(**out));
    fake.opens++;
    return *out ? 0 : 3;
}

void hrt_device_close(hrt_device *d)
{
    if (d)
        fake.closes++;
    free(d);
}

int hrt_device_ram(hrt_device *d, uint64_t *used, uint64_t *total)
{
    (void)d;
    if (!fake.has_ram)
        return 65; /* HAILO_NOT_AVAILABLE */
    *used = fake.ram_used;
    *total = fake.ram_total;
    return 0;
}

int hrt_device_identify(hrt_device *d, hrt_identity *out)
{
    (void)d;
    fake.identify_calls++;
    memset(out, 0, sizeof(*out));
    snprintf(out->device_id, sizeof(out->device_id), "0001:01:00.0");
    snprintf(out->architecture, sizeof(out->architecture), "%s",
             fake.architecture ? fake.architecture : "HAILO10H");
    snprintf(out->fw_version, sizeof(out->fw_version), "5.2.0");
    out->has_temperature = fake.has_temperature;
    out->temperature_celsius = fake.temperature;
    out->has_ram = fake.has_ram;
    out->ram_used_bytes = fake.ram_used;
    out->ram_total_bytes = fake.ram_total;
    return 0;
}

/* ---- InferModel ------------------------------------------------------------------ */

int hrt_net_open(hrt_device *d, const char *hef_path, const hrt_net_options *opt, hrt_net **out)
{
    (void)d;
    for (size_t i = 0; i < fake.n_hefs; i++) {
        const fake_hef *h = &fake.hefs[i];
        if (strcmp(h->path, hef_path) != 0)
            continue;
        if (h->open_status)
            return h->open_status;
        hrt_net *n = calloc(1, sizeof(*n));
        if (!n)
            return 3;
        memcpy(n->in, h->in, sizeof(n->in));
        memcpy(n->out, h->out, sizeof(n->out));
        n->n_in = h->n_in;
        n->n_out = h->n_out;
        for (size_t k = 0; k < n->n_in; k++)
            if (opt->input_type != HRT_TYPE_AUTO)
                fake_stream(&n->in[k], n->in[k].name, n->in[k].height, n->in[k].width,
                            n->in[k].features, n->in[k].order, opt->input_type);
        for (size_t k = 0; k < n->n_out; k++)
            if (opt->output_type != HRT_TYPE_AUTO)
                fake_stream(&n->out[k], n->out[k].name, n->out[k].height, n->out[k].width,
                            n->out[k].features, n->out[k].order, opt->output_type);
        n->footprint = h->footprint;
        fake.ram_used += h->footprint;
        fake.last_batch_size = opt->batch_size;
        fake.open_nets++;
        *out = n;
        return 0;
    }
    return FAKE_OPEN_FILE_FAILURE;
}

void hrt_net_close(hrt_net *n)
{
    if (!n)
        return;
    fake.ram_used -= n->footprint;
    fake.open_nets--;
    free(n);
}

size_t hrt_net_n_inputs(const hrt_net *n)
{
    return n->n_in;
}

size_t hrt_net_n_outputs(const hrt_net *n)
{
    return n->n_out;
}

const hrt_stream_info *hrt_net_inputs(const hrt_net *n)
{
    return n->in;
}

const hrt_stream_info *hrt_net_outputs(const hrt_net *n)
{
    return n->out;
}

int hrt_net_run(hrt_net *n, size_t n_frames, void *const *inputs, void *const *outputs,
                int timeout_ms)
{
    (void)timeout_ms;
    if (fake.run_status)
        return fake.run_status;
    if (fake.run_calls < FAKE_MAX_RUNS)
        fake.run_frames[fake.run_calls] = n_frames;
    fake.run_calls++;
    free(fake.last_input);
    fake.last_input_size = n->in[0].frame_size;
    fake.last_input = malloc(fake.last_input_size);
    memcpy(fake.last_input, inputs[0], fake.last_input_size);
    for (size_t f = 0; f < n_frames; f++) {
        double sum = 0;
        for (size_t i = 0; i < n->n_in; i++) {
            const uint8_t *p = inputs[f * n->n_in + i];
            for (size_t k = 0; k < n->in[i].frame_size; k++)
                sum += p[k];
        }
        for (size_t o = 0; o < n->n_out; o++) {
            float *v = outputs[f * n->n_out + o];
            size_t count = n->out[o].frame_size / sizeof(float);
            for (size_t k = 0; k < count; k++)
                v[k] = k == 0 ? (float)sum : (float)(k + 100 * o);
        }
    }
    return 0;
}

/* ---- VLM ------------------------------------------------------------------------------ */

int hrt_vlm_open(hrt_device *d, const char *hef_path, hrt_vlm **out)
{
    (void)d;
    (void)hef_path;
    if (fake.vlm_open_status)
        return fake.vlm_open_status;
    *out = calloc(1, sizeof(**out));
    (*out)->footprint = fake.vlm_footprint;
    fake.ram_used += fake.vlm_footprint;
    fake.open_vlms++;
    return 0;
}

void hrt_vlm_close(hrt_vlm *v)
{
    if (!v)
        return;
    fake.ram_used -= v->footprint;
    fake.open_vlms--;
    free(v);
}

void hrt_vlm_frame_info(const hrt_vlm *v, hrt_stream_info *out)
{
    (void)v;
    *out = fake.vlm_frame;
}

int hrt_vlm_generate(hrt_vlm *v, const char *const *messages, size_t n_messages,
                     void *const *frames, size_t n_frames, const hrt_gen_params *p,
                     hrt_token_cb on_token, void *ctx, int *end)
{
    (void)v;
    fake.messages_seen[0] = '\0';
    for (size_t i = 0; i < n_messages; i++) {
        size_t used = strlen(fake.messages_seen);
        snprintf(fake.messages_seen + used, sizeof(fake.messages_seen) - used, "%s%s",
                 i ? "\n" : "", messages[i]);
    }
    fake.frames_seen = n_frames;
    if (n_frames)
        memcpy(fake.first_frame_byte, frames[0], sizeof(fake.first_frame_byte));
    fake.params_seen = *p;
    fake.pieces_generated = 0;
    for (size_t i = 0; i < fake.n_tokens; i++) {
        if (fake.gen_status && i == fake.gen_fail_after)
            return fake.gen_status;
        fake.pieces_generated++;
        if (on_token(ctx, fake.tokens[i], strlen(fake.tokens[i])) != 0) {
            fake.aborted = true;
            *end = HRT_END_ABORTED;
            return 0;
        }
    }
    *end = fake.gen_end;
    return 0;
}

int hrt_vlm_count_tokens(hrt_vlm *v, const char *text, size_t *count)
{
    (void)v;
    size_t n = 0;
    bool in_word = false;
    for (const char *c = text; *c; c++) {
        bool space = *c == ' ' || *c == '\n';
        n += !space && !in_word;
        in_word = !space;
    }
    *count = n;
    return 0;
}

int hrt_vlm_context_usage(hrt_vlm *v, size_t *tokens)
{
    (void)v;
    *tokens = fake.prompt_tokens + fake.pieces_generated;
    return 0;
}

int hrt_vlm_clear_context(hrt_vlm *v)
{
    (void)v;
    fake.clear_calls++;
    return 0;
}

/* ---- Speech2Text ------------------------------------------------------------------------ */

int hrt_s2t_open(hrt_device *d, const char *hef_path, hrt_s2t **out)
{
    (void)d;
    (void)hef_path;
    *out = calloc(1, sizeof(**out));
    fake.open_s2ts++;
    return 0;
}

void hrt_s2t_close(hrt_s2t *s)
{
    if (s)
        fake.open_s2ts--;
    free(s);
}

int hrt_s2t_segments(hrt_s2t *s, const float *samples, size_t n_samples, const char *language,
                     bool translate, int timeout_ms, hrt_segment_cb on_segment, void *ctx)
{
    (void)s;
    (void)samples;
    snprintf(fake.language_seen, sizeof(fake.language_seen), "%s", language);
    fake.translate_seen = translate;
    fake.timeout_seen = timeout_ms;
    fake.samples_seen = n_samples;
    if (fake.s2t_status)
        return fake.s2t_status;
    for (size_t i = 0; i < fake.n_segments; i++)
        if (on_segment(ctx, fake.segments[i].start, fake.segments[i].end, fake.segments[i].text))
            return 3;
    return 0;
}
