/*
 * hailort_fake_rt.c - the fake HailoRT of hailort_fake_rt.h.  Outputs are a
 * pure function of the inputs (output value 0 is the byte sum of the
 * frame's inputs, value k is k + 100 * output index) so tests can check
 * which frame went where.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hailort_fake_rt.h"

fake_rt fake;

struct hrt_device {
    int unused;
};
struct hrt_net {
    hrt_stream_info in[FAKE_MAX_STREAMS], out[FAKE_MAX_STREAMS];
    size_t n_in, n_out;
    uint64_t footprint;
    bool down; /* shut down by a failed run_async */
};
struct hrt_genai {
    uint64_t footprint;
    bool vlm;
};
struct hrt_gen {
    size_t next; /* the next token the reader gets */
    bool ended;  /* the end piece was read */
    bool aborted;
    size_t timeouts_left;
    /* After an abort: what the reader had read ahead, then the recovery. */
    size_t queue_next, queue_end;
    bool recovery_queued;
    char piece[256];
};
struct hrt_s2t {
    int unused;
};

void fake_reset(void)
{
    free(fake.last_input);
    memset(&fake, 0, sizeof(fake));
    pthread_mutex_init(&fake.mu, NULL);
    pthread_cond_init(&fake.ram_cv, NULL);
    pthread_cond_init(&fake.s2t_cv, NULL);
    fake.n_devices = 1;
    fake.has_temperature = true;
    fake.temperature = 47.5;
    fake.has_ram = true;
    fake.ram_total = 8ull << 30;
    fake.ram_used = 300ull << 20;
    fake.gen_end = HRT_GEN_LOGICAL_END;
    fake.eos = "<|im_end|>";
    fake.recovery = "<|im_end|>";
    fake.stop_tokens[0] = "<|im_end|>";
    fake.stop_tokens[1] = "<|endoftext|>";
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

int fake_count(const int *counter)
{
    pthread_mutex_lock(&fake.mu);
    int v = *counter;
    pthread_mutex_unlock(&fake.mu);
    return v;
}

bool fake_flag(const bool *flag)
{
    pthread_mutex_lock(&fake.mu);
    bool v = *flag;
    pthread_mutex_unlock(&fake.mu);
    return v;
}

/* ---- C API ------------------------------------------------------------------ */

const char *hrt_status_name(int status)
{
    switch (status) {
    case 0:
        return "HAILO_SUCCESS";
    case FAKE_INVALID_ARGUMENT:
        return "HAILO_INVALID_ARGUMENT";
    case FAKE_TIMEOUT:
        return "HAILO_TIMEOUT";
    case FAKE_INVALID_OPERATION:
        return "HAILO_INVALID_OPERATION";
    case FAKE_NOT_IMPLEMENTED:
        return "HAILO_NOT_IMPLEMENTED";
    case FAKE_INTERNAL_FAILURE:
        return "HAILO_INTERNAL_FAILURE";
    case FAKE_OPEN_FILE_FAILURE:
        return "HAILO_OPEN_FILE_FAILURE";
    case FAKE_DRIVER_OPERATION_FAILED:
        return "HAILO_DRIVER_OPERATION_FAILED";
    case FAKE_SHUTDOWN_EVENT_SIGNALED:
        return "HAILO_SHUTDOWN_EVENT_SIGNALED";
    case FAKE_COMMUNICATION_CLOSED:
        return "HAILO_COMMUNICATION_CLOSED";
    case FAKE_STREAM_ABORT:
        return "HAILO_STREAM_ABORT";
    case FAKE_NOT_AVAILABLE:
        return "HAILO_NOT_AVAILABLE";
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
    if (d) {
        pthread_mutex_lock(&fake.mu);
        /* HailoRT would free the device under a query still running. */
        if (fake.ram_held_now > 0)
            fake.closed_during_query = true;
        fake.closes++;
        pthread_mutex_unlock(&fake.mu);
        /* With the VDevice gone, nothing writes into kept buffers: release. */
        for (size_t i = 0; i < fake.n_kept; i++) {
            fake.kept[i].release(fake.kept[i].owner);
            fake.releases++;
        }
        fake.n_kept = 0;
    }
    free(d);
}

int hrt_device_ram(hrt_device *d, uint64_t *used, uint64_t *total)
{
    (void)d;
    pthread_mutex_lock(&fake.mu);
    fake.ram_calls++;
    /* The chip samples when asked; a held call answers that sample late. */
    uint64_t sampled = fake.ram_used;
    bool held = fake.ram_hold > 0;
    if (held) {
        int ticket = fake.ram_held_total++;
        fake.ram_hold--;
        fake.ram_held_now++;
        pthread_cond_broadcast(&fake.ram_cv);
        while (fake.ram_released <= ticket)
            pthread_cond_wait(&fake.ram_cv, &fake.mu);
        fake.ram_held_now--;
    }
    while (fake.ram_block) {
        fake.ram_waiting = true;
        pthread_cond_wait(&fake.ram_cv, &fake.mu);
    }
    fake.ram_waiting = false;
    int st = 0;
    if (!fake.has_ram) {
        st = FAKE_NOT_AVAILABLE;
    } else {
        *used = held ? sampled : fake.ram_used;
        *total = fake.ram_total;
    }
    pthread_mutex_unlock(&fake.mu);
    return st;
}

void fake_hold_ram(int n)
{
    pthread_mutex_lock(&fake.mu);
    fake.ram_hold += n;
    pthread_mutex_unlock(&fake.mu);
}

void fake_release_ram_one(void)
{
    pthread_mutex_lock(&fake.mu);
    fake.ram_released++;
    pthread_cond_broadcast(&fake.ram_cv);
    pthread_mutex_unlock(&fake.mu);
}

bool fake_wait_ram_held(int n)
{
    struct timespec ts;
    bool ok = true;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&fake.mu);
    while (fake.ram_held_total < n && ok)
        ok = pthread_cond_timedwait(&fake.ram_cv, &fake.mu, &ts) == 0;
    ok = fake.ram_held_total >= n;
    pthread_mutex_unlock(&fake.mu);
    return ok;
}

uint64_t fake_ram_used(void)
{
    pthread_mutex_lock(&fake.mu);
    uint64_t v = fake.ram_used;
    pthread_mutex_unlock(&fake.mu);
    return v;
}

static void ram_add(int64_t bytes)
{
    pthread_mutex_lock(&fake.mu);
    fake.ram_used += (uint64_t)bytes;
    pthread_mutex_unlock(&fake.mu);
}

void fake_unblock_ram(void)
{
    pthread_mutex_lock(&fake.mu);
    fake.ram_block = false;
    pthread_cond_broadcast(&fake.ram_cv);
    pthread_mutex_unlock(&fake.mu);
}

int hrt_device_identify(hrt_device *d, hrt_identity *out)
{
    (void)d;
    pthread_mutex_lock(&fake.mu);
    fake.identify_calls++;
    int st = fake.identify_status;
    memset(out, 0, sizeof(*out));
    snprintf(out->device_id, sizeof(out->device_id), "0001:01:00.0");
    snprintf(out->architecture, sizeof(out->architecture), "%s",
             fake.architecture ? fake.architecture : "HAILO10H");
    snprintf(out->fw_version, sizeof(out->fw_version), "5.2.0");
    out->has_temperature = fake.has_temperature;
    out->temperature_celsius = fake.temperature;
    pthread_mutex_unlock(&fake.mu);
    return st;
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
        for (size_t k = 0; k < n->n_out; k++) {
            hrt_type t = hrt_output_type(n->out[k].order, opt->output_type);
            size_t frame = n->out[k].frame_size;
            if (t != HRT_TYPE_AUTO)
                fake_stream(&n->out[k], n->out[k].name, n->out[k].height, n->out[k].width,
                            n->out[k].features, n->out[k].order, t);
            /* Lists and padded frames keep the HEF's frame size (in bytes of
             * the new type where it changed). */
            if (n->out[k].order >= HRT_ORDER_YUY2)
                n->out[k].frame_size = frame / type_size(h->out[k].type) * type_size(t);
        }
        n->footprint = h->footprint;
        ram_add((int64_t)h->footprint);
        fake.last_batch_size = opt->batch_size;
        fake.open_nets++;
        fake.net_opens++;
        *out = n;
        return 0;
    }
    return FAKE_OPEN_FILE_FAILURE;
}

/* The late reply of kept run i: written into its outputs, then released. */
static void complete_kept(size_t i)
{
    fake_kept *k = &fake.kept[i];
    for (size_t o = 0; o < k->n_outputs; o++)
        memset(k->outputs[o], 0xA5, k->sizes[o]);
    fake.late_writes++;
    k->release(k->owner);
    fake.releases++;
    fake.kept[i] = fake.kept[--fake.n_kept];
}

size_t fake_complete_late(void)
{
    size_t n = fake.n_kept;
    while (fake.n_kept)
        complete_kept(fake.n_kept - 1);
    return n;
}

void hrt_net_close(hrt_net *n)
{
    if (!n)
        return;
    /* The shutdown makes the pending replies come. */
    for (size_t i = fake.n_kept; i-- > 0;)
        if (fake.kept[i].net == n)
            complete_kept(i);
    ram_add(-(int64_t)n->footprint);
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
                int timeout_ms, hrt_release_fn release, void *owner, unsigned *flags)
{
    *flags = 0;
    fake.last_timeout_ms = timeout_ms;
    if (fake.run_calls < FAKE_MAX_RUNS)
        fake.run_frames[fake.run_calls] = n_frames;
    fake.run_calls++;
    if (n->down)
        return FAKE_STREAM_ABORT;
    if (fake.run_status) {
        int st = fake.run_status;
        if (fake.run_failures > 0 && --fake.run_failures == 0)
            fake.run_status = 0;
        *flags = fake.run_flags;
        if (*flags & HRT_RUN_NET_DOWN)
            n->down = true;
        if ((*flags & HRT_RUN_KEPT) && fake.n_kept < FAKE_MAX_KEPT) {
            fake_kept *k = &fake.kept[fake.n_kept++];
            k->outputs = outputs;
            k->n_outputs = n_frames * n->n_out;
            for (size_t f = 0; f < n_frames; f++)
                for (size_t o = 0; o < n->n_out; o++)
                    k->sizes[f * n->n_out + o] = n->out[o].frame_size;
            k->release = release;
            k->owner = owner;
            k->net = n;
        }
        return st;
    }
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
            if (n->out[o].type != HRT_TYPE_FLOAT32) {
                memset(outputs[f * n->n_out + o], 7, n->out[o].frame_size);
                continue;
            }
            float *v = outputs[f * n->n_out + o];
            size_t count = n->out[o].frame_size / sizeof(float);
            for (size_t k = 0; k < count; k++)
                v[k] = k == 0 ? (float)sum : (float)(k + 100 * o);
        }
    }
    return 0;
}

/* ---- GenAI ------------------------------------------------------------------------------ */

int hrt_genai_open(hrt_device *d, const char *hef_path, bool vlm, bool optimize_memory,
                   hrt_genai **out)
{
    (void)d;
    (void)hef_path;
    fake.genai_opens++;
    fake.optimize_seen = optimize_memory;
    fake.vlm_seen = vlm;
    if (optimize_memory && fake.optimize_status)
        return fake.optimize_status;
    if (fake.genai_open_status) {
        int st = fake.genai_open_status;
        if (fake.genai_open_failures > 0 && --fake.genai_open_failures == 0)
            fake.genai_open_status = 0;
        return st;
    }
    *out = calloc(1, sizeof(**out));
    (*out)->footprint = fake.vlm_footprint;
    (*out)->vlm = vlm;
    ram_add((int64_t)fake.vlm_footprint);
    fake.open_genai++;
    return 0;
}

void hrt_genai_close(hrt_genai *g)
{
    if (!g)
        return;
    ram_add(-(int64_t)g->footprint);
    fake.open_genai--;
    free(g);
}

void hrt_genai_frame_info(const hrt_genai *g, hrt_stream_info *out)
{
    if (g->vlm)
        *out = fake.vlm_frame;
    else
        memset(out, 0, sizeof(*out));
}

int hrt_genai_special_tokens(hrt_genai *g, void (*on_text)(void *ctx, const char *text), void *ctx)
{
    (void)g;
    for (size_t i = 0; i < 4 && fake.stop_tokens[i]; i++)
        on_text(ctx, fake.stop_tokens[i]);
    if (fake.recovery)
        on_text(ctx, fake.recovery);
    return 0;
}

static void append(char *dst, size_t size, const char *sep, const char *s)
{
    size_t used = strlen(dst);
    snprintf(dst + used, size - used, "%s%s", used ? sep : "", s);
}

int hrt_genai_start(hrt_genai *g, const char *const *messages, size_t n_messages,
                    const char *const *tools, size_t n_tools, const char *raw_prompt,
                    void *const *frames, size_t n_frames, const hrt_gen_params *p, hrt_gen **out,
                    int *stage)
{
    (void)g;
    fake.messages_seen[0] = fake.tools_seen[0] = fake.raw_seen[0] = '\0';
    for (size_t i = 0; i < n_messages; i++)
        append(fake.messages_seen, sizeof(fake.messages_seen), "\n", messages[i]);
    for (size_t i = 0; i < n_tools; i++)
        append(fake.tools_seen, sizeof(fake.tools_seen), "\n", tools[i]);
    if (raw_prompt)
        snprintf(fake.raw_seen, sizeof(fake.raw_seen), "%s", raw_prompt);
    fake.frames_seen = n_frames;
    if (n_frames)
        memcpy(fake.first_frame_byte, frames[0], sizeof(fake.first_frame_byte));
    fake.params_seen = *p;
    fake.pieces_read = 0;
    fake.aborted = false;
    *stage = HRT_START_DEVICE;
    if (fake.start_status) {
        *stage = fake.start_stage;
        return fake.start_status;
    }
    *out = calloc(1, sizeof(**out));
    (*out)->timeouts_left = fake.prefill_timeouts;
    return 0;
}

static int give(hrt_gen *gen, const char *text, int st, const char **t, size_t *len, int *state)
{
    snprintf(gen->piece, sizeof(gen->piece), "%s", text);
    *t = gen->piece;
    *len = strlen(gen->piece);
    *state = st;
    fake.pieces_read++;
    return 0;
}

int hrt_gen_read(hrt_gen *gen, int timeout_ms, const char **text, size_t *len, int *state)
{
    fake.reads++;
    if (timeout_ms > fake.max_read_timeout)
        fake.max_read_timeout = timeout_ms;
    if (fake.on_read)
        fake.on_read(fake.reads);
    if (gen->aborted) {
        if (gen->queue_next < gen->queue_end)
            return give(gen, fake.tokens[gen->queue_next++], HRT_GEN_GENERATING, text, len, state);
        if (gen->recovery_queued) {
            gen->recovery_queued = false;
            return give(gen, fake.recovery, HRT_GEN_ABORTED, text, len, state);
        }
        return FAKE_INVALID_OPERATION;
    }
    if (gen->ended)
        return FAKE_INVALID_OPERATION;
    if (gen->timeouts_left) {
        /* HailoRT waits out the timeout; a few ms stand for it here. */
        struct timespec ts = {0, (timeout_ms < 5 ? timeout_ms : 5) * 1000000L};
        nanosleep(&ts, NULL);
        gen->timeouts_left--;
        return FAKE_TIMEOUT;
    }
    if (fake.gen_status && fake.pieces_read == fake.gen_fail_after)
        return fake.gen_status;
    if (gen->next < fake.n_tokens) {
        size_t i = gen->next++;
        if (fake.device_generated < gen->next)
            fake.device_generated = gen->next;
        return give(gen, fake.tokens[i], HRT_GEN_GENERATING, text, len, state);
    }
    gen->ended = true;
    if (fake.gen_end == HRT_GEN_MAX_TOKENS) {
        fake.recovery_in_context = 1;
        return give(gen, fake.recovery, HRT_GEN_MAX_TOKENS, text, len, state);
    }
    fake.device_generated = fake.n_tokens + 1; /* the end token is generated too */
    return give(gen, fake.eos, HRT_GEN_LOGICAL_END, text, len, state);
}

int hrt_gen_abort(hrt_gen *gen)
{
    fake.abort_calls++;
    fake.aborted = true;
    if (gen->ended || gen->aborted)
        return 0;
    gen->aborted = true;
    /* The host's reader ran ahead: those tokens exist, queued for the reader. */
    size_t generated = gen->next + fake.runahead;
    if (generated > fake.n_tokens)
        generated = fake.n_tokens;
    fake.device_generated = generated;
    gen->queue_next = gen->next;
    gen->queue_end = generated;
    gen->recovery_queued = true;
    fake.recovery_in_context = 1;
    return 0;
}

void hrt_gen_free(hrt_gen *gen)
{
    free(gen);
}

int hrt_genai_count_tokens(hrt_genai *g, const char *text, size_t *count)
{
    (void)g;
    /* A word is a token, and so is each special token "<|...|>". */
    size_t n = 0;
    bool in_word = false;
    for (const char *c = text; *c; c++) {
        if (c[0] == '<' && c[1] == '|') {
            const char *end = strstr(c, "|>");
            if (end) {
                n++;
                c = end + 1;
                in_word = false;
                continue;
            }
        }
        bool space = *c == ' ' || *c == '\n';
        n += !space && !in_word;
        in_word = !space;
    }
    *count = n;
    return 0;
}

int hrt_genai_context_usage(hrt_genai *g, size_t *tokens)
{
    (void)g;
    *tokens = fake.prompt_tokens + fake.device_generated + fake.recovery_in_context;
    return 0;
}

int hrt_genai_clear_context(hrt_genai *g)
{
    (void)g;
    fake.clear_calls++;
    fake.device_generated = 0;
    fake.recovery_in_context = 0;
    return 0;
}

/* ---- Speech2Text ------------------------------------------------------------------------ */

int hrt_s2t_open(hrt_device *d, const char *hef_path, hrt_s2t **out)
{
    (void)d;
    (void)hef_path;
    if (fake.s2t_open_status)
        return fake.s2t_open_status;
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

void fake_s2t_release(void)
{
    pthread_mutex_lock(&fake.mu);
    fake.s2t_block = false;
    pthread_cond_broadcast(&fake.s2t_cv);
    pthread_mutex_unlock(&fake.mu);
}

int hrt_s2t_segments(hrt_s2t *s, const float *samples, size_t n_samples, const char *language,
                     bool translate, int timeout_ms, hrt_segment_cb on_segment, void *ctx)
{
    (void)s;
    (void)samples;
    pthread_mutex_lock(&fake.mu);
    fake.s2t_calls++;
    snprintf(fake.language_seen, sizeof(fake.language_seen), "%s", language ? language : "(none)");
    fake.translate_seen = translate;
    fake.timeout_seen = timeout_ms;
    fake.samples_seen = n_samples;
    fake.s2t_running = true;
    if (fake.s2t_cancel_on_start)
        atomic_store(fake.s2t_cancel_on_start, true);
    /* HailoRT 5.2 ignores timeout_ms: the call ends when the chip is done. */
    while (fake.s2t_block)
        pthread_cond_wait(&fake.s2t_cv, &fake.mu);
    int st = fake.s2t_status;
    pthread_mutex_unlock(&fake.mu);
    for (size_t i = 0; st == 0 && i < fake.n_segments; i++)
        if (on_segment(ctx, fake.segments[i].start, fake.segments[i].end, fake.segments[i].text))
            st = 3;
    pthread_mutex_lock(&fake.mu);
    fake.s2t_running = false;
    pthread_mutex_unlock(&fake.mu);
    return st;
}
