/*
 * hailort-genai.cpp - the one C++ file: HailoRT's C++-only API (VDevice,
 * InferModel, GenAI VLM, LLM and Speech2Text) behind the C functions of
 * hailort-rt.h.
 *
 * DESIGN: kept as thin as possible.  Every function catches all exceptions
 * (std::bad_alloc from the standard library) and returns a hailo_status;
 * decisions (errors, layouts, prompts, stop strings, special tokens, token
 * counts, when to stop reading) live in the C files.  HailoRT's Expected<T>
 * is unwrapped with a small macro that returns its status on failure.
 *
 * HailoRT releases: the headers carry no version macro and the GenAI API
 * grew between 5.0 and 5.2 (structured messages, LLM tools (5.2), abort,
 * context usage, stop tokens, optimize_memory_on_device, Speech2Text), so what a release
 * lacks is found at compile time (member detection below) and answered
 * HAILO_NOT_IMPLEMENTED at run time; every 5.x compiles.
 *
 * Runs kept in flight: an InferModel run's completion is tracked by its
 * own callback (a shared run_state), not by waiting on the job, so a run
 * whose wait times out keeps its buffers until HailoRT's reply has been
 * written into them; the callback then hands them back (hrt_release_fn).
 */
#include <hailo/hailort.hpp>
#if __has_include(<hailo/genai/speech2text/speech2text.hpp>)
#include <hailo/genai/speech2text/speech2text.hpp>
#define HRT_HAVE_SPEECH2TEXT 1
#endif

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "hailort-rt.h"

using namespace hailort;

/* How long closing a net waits for runs still in flight after its shutdown. */
static constexpr std::chrono::milliseconds KEPT_RUN_CLOSE_WAIT{2000};

/* ---- what this HailoRT release offers (all 5.x) ------------------------------------ */

template <typename T, typename = void> struct has_abort : std::false_type {
};
template <typename T>
struct has_abort<T, std::void_t<decltype(std::declval<T &>().abort())>> : std::true_type {
};

template <typename T, typename = void> struct has_context_usage : std::false_type {
};
template <typename T>
struct has_context_usage<T, std::void_t<decltype(std::declval<T &>().get_context_usage_size())>>
    : std::true_type {
};

template <typename T, typename = void> struct has_stop_tokens : std::false_type {
};
template <typename T>
struct has_stop_tokens<T, std::void_t<decltype(std::declval<T &>().get_stop_tokens())>>
    : std::true_type {
};

template <typename T, typename = void> struct has_recovery : std::false_type {
};
template <typename T>
struct has_recovery<T,
                    std::void_t<decltype(std::declval<T &>().get_generation_recovery_sequence())>>
    : std::true_type {
};

template <typename T, typename = void> struct has_optimize_memory : std::false_type {
};
template <typename T>
struct has_optimize_memory<
    T, std::void_t<decltype(std::declval<T &>().set_optimize_memory_on_device(true))>>
    : std::true_type {
};

/* VLM::generate(params, messages, frames): structured chat messages (5.0.1+). */
template <typename T, typename = void> struct vlm_takes_messages : std::false_type {
};
template <typename T>
struct vlm_takes_messages<T, std::void_t<decltype(std::declval<T &>().generate(
                                 std::declval<const genai::LLMGeneratorParams &>(),
                                 std::declval<const std::vector<std::string> &>(),
                                 std::declval<const std::vector<MemoryView> &>()))>>
    : std::true_type {
};

/* LLM::generate(params, messages): structured chat messages (5.0.1+). */
template <typename T, typename = void> struct llm_takes_messages : std::false_type {
};
template <typename T>
struct llm_takes_messages<T, std::void_t<decltype(std::declval<T &>().generate(
                                 std::declval<const genai::LLMGeneratorParams &>(),
                                 std::declval<const std::vector<std::string> &>()))>>
    : std::true_type {
};

/* LLM::generate(params, messages, tools): tools for the template (5.2+). */
template <typename T, typename = void> struct llm_takes_tools : std::false_type {
};
template <typename T>
struct llm_takes_tools<T, std::void_t<decltype(std::declval<T &>().generate(
                              std::declval<const genai::LLMGeneratorParams &>(),
                              std::declval<const std::vector<std::string> &>(),
                              std::declval<const std::vector<std::string> &>()))>>
    : std::true_type {
};

/* LLMGenerator::write(std::string) (every 5.x read so far); else (char *, size). */
template <typename T, typename = void> struct writes_string : std::false_type {
};
template <typename T>
struct writes_string<
    T, std::void_t<decltype(std::declval<T &>().write(std::declval<const std::string &>()))>>
    : std::true_type {
};

/* ---- handles ------------------------------------------------------------------------- */

/* The completion of one kept-or-not run: shared with HailoRT's callbacks. */
struct run_state {
    std::mutex mu;
    std::condition_variable cv;
    size_t remaining = 0; /* frames sent and not completed */
    int first_error = HAILO_SUCCESS;
    bool kept = false; /* the caller gave up: release when remaining hits 0 */
    bool released = false;
    hrt_release_fn release = nullptr;
    void *owner = nullptr;

    void complete(int status)
    {
        bool do_release = false;
        {
            std::lock_guard<std::mutex> lock(mu);
            if (status != HAILO_SUCCESS && first_error == HAILO_SUCCESS)
                first_error = status;
            if (remaining > 0)
                remaining--;
            if (remaining == 0 && kept && !released) {
                released = true;
                do_release = true;
            }
        }
        cv.notify_all();
        if (do_release)
            release(owner);
    }

    /* Releases now if nobody did (the VDevice is gone: nothing writes any more). */
    void force_release()
    {
        bool do_release = false;
        {
            std::lock_guard<std::mutex> lock(mu);
            if (kept && !released) {
                released = true;
                do_release = true;
            }
        }
        if (do_release)
            release(owner);
    }
};

struct hrt_device {
    std::shared_ptr<VDevice> vdevice;
    std::mutex orphans_mu;
    std::vector<std::shared_ptr<run_state>> orphans; /* kept runs of closed nets */
};

struct hrt_net {
    hrt_device *dev = nullptr;
    std::shared_ptr<InferModel> model;
    std::optional<ConfiguredInferModel> configured;
    std::vector<hrt_stream_info> in, out;
    std::vector<std::shared_ptr<run_state>> kept;
};

struct hrt_genai {
    std::unique_ptr<genai::VLM> vlm;
    std::unique_ptr<genai::LLM> llm;
    hrt_stream_info frame{};
};

struct hrt_gen {
    std::optional<genai::LLMGeneratorCompletion> completion;
    std::string piece;
};

#ifdef HRT_HAVE_SPEECH2TEXT
struct hrt_s2t {
    std::unique_ptr<genai::Speech2Text> s2t;
};
#else
struct hrt_s2t {
    int unused;
};
#endif

/* Assigns the value of an Expected to `lhs`, or returns its status. */
#define HRT_TRY(lhs, expr)                                                                         \
    auto lhs##_exp = (expr);                                                                       \
    if (!lhs##_exp.has_value())                                                                    \
        return static_cast<int>(lhs##_exp.status());                                               \
    auto lhs = lhs##_exp.release()

/* Runs body; exceptions become statuses (nothing may unwind into C). */
template <typename F> static int guarded(F &&body)
{
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return HAILO_OUT_OF_HOST_MEMORY;
    } catch (const hailort_error &e) {
        return static_cast<int>(e.status());
    } catch (...) {
        return HAILO_INTERNAL_FAILURE;
    }
}

static void copy_str(char *dst, size_t size, const std::string &src)
{
    size_t n = std::min(size - 1, src.size());
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

static hrt_order order_of(hailo_format_order_t order)
{
    switch (order) {
    case HAILO_FORMAT_ORDER_NHWC:
        return HRT_ORDER_NHWC;
    case HAILO_FORMAT_ORDER_NCHW:
        return HRT_ORDER_NCHW;
    case HAILO_FORMAT_ORDER_NC:
        return HRT_ORDER_NC;
    case HAILO_FORMAT_ORDER_NHW:
        return HRT_ORDER_NHW;
    case HAILO_FORMAT_ORDER_FCR:
        return HRT_ORDER_FCR;
    case HAILO_FORMAT_ORDER_F8CR:
        return HRT_ORDER_F8CR;
    case HAILO_FORMAT_ORDER_BAYER_RGB:
        return HRT_ORDER_BAYER_RGB;
    case HAILO_FORMAT_ORDER_12_BIT_BAYER_RGB:
        return HRT_ORDER_BAYER_RGB12;
    case HAILO_FORMAT_ORDER_YUY2:
        return HRT_ORDER_YUY2;
    case HAILO_FORMAT_ORDER_NV12:
        return HRT_ORDER_NV12;
    case HAILO_FORMAT_ORDER_NV21:
        return HRT_ORDER_NV21;
    case HAILO_FORMAT_ORDER_I420:
        return HRT_ORDER_I420;
    case HAILO_FORMAT_ORDER_RGB4:
        return HRT_ORDER_RGB4;
    case HAILO_FORMAT_ORDER_HAILO_NMS_BY_CLASS:
        return HRT_ORDER_NMS_BY_CLASS;
    case HAILO_FORMAT_ORDER_HAILO_NMS_BY_SCORE:
        return HRT_ORDER_NMS_BY_SCORE;
    case HAILO_FORMAT_ORDER_HAILO_NMS_WITH_BYTE_MASK:
        return HRT_ORDER_NMS_BYTE_MASK;
    default:
        return HRT_ORDER_OTHER;
    }
}

static hrt_type type_of(hailo_format_type_t type)
{
    switch (type) {
    case HAILO_FORMAT_TYPE_UINT8:
        return HRT_TYPE_UINT8;
    case HAILO_FORMAT_TYPE_UINT16:
        return HRT_TYPE_UINT16;
    case HAILO_FORMAT_TYPE_FLOAT32:
        return HRT_TYPE_FLOAT32;
    default:
        return HRT_TYPE_AUTO;
    }
}

static hailo_format_type_t hailo_type(hrt_type type)
{
    switch (type) {
    case HRT_TYPE_UINT8:
        return HAILO_FORMAT_TYPE_UINT8;
    case HRT_TYPE_UINT16:
        return HAILO_FORMAT_TYPE_UINT16;
    case HRT_TYPE_FLOAT32:
        return HAILO_FORMAT_TYPE_FLOAT32;
    default:
        return HAILO_FORMAT_TYPE_AUTO;
    }
}

/* ---- device ------------------------------------------------------------------ */

extern "C" int hrt_device_open(const char *group_id, hrt_device **out)
{
    return guarded([&]() -> int {
        hailo_vdevice_params_t params;
        hailo_status st = hailo_init_vdevice_params(&params);
        if (st != HAILO_SUCCESS)
            return st;
        params.group_id = group_id;
        HRT_TRY(vdevice, VDevice::create_shared(params));
        auto d = std::make_unique<hrt_device>();
        d->vdevice = std::move(vdevice);
        *out = d.release();
        return HAILO_SUCCESS;
    });
}

extern "C" void hrt_device_close(hrt_device *d)
{
    if (!d)
        return;
    d->vdevice.reset();
    for (auto &r : d->orphans)
        r->force_release();
    delete d;
}

static int first_device(hrt_device *d, Device **dev)
{
    HRT_TRY(devices, d->vdevice->get_physical_devices());
    if (devices.empty())
        return HAILO_OUT_OF_PHYSICAL_DEVICES;
    *dev = &devices[0].get();
    return HAILO_SUCCESS;
}

extern "C" int hrt_device_ram(hrt_device *d, uint64_t *used_bytes, uint64_t *total_bytes)
{
    return guarded([&]() -> int {
        Device *dev = nullptr;
        int st = first_device(d, &dev);
        if (st != HAILO_SUCCESS)
            return st;
        HRT_TRY(perf, dev->query_performance_stats());
        if (perf.ram_size_total <= 0 || perf.ram_size_used < 0)
            return HAILO_NOT_AVAILABLE;
        /* HailoRT reports KiB (the chip's `free`). */
        *used_bytes = static_cast<uint64_t>(perf.ram_size_used) * 1024u;
        *total_bytes = static_cast<uint64_t>(perf.ram_size_total) * 1024u;
        return HAILO_SUCCESS;
    });
}

extern "C" int hrt_device_identify(hrt_device *d, hrt_identity *out)
{
    return guarded([&]() -> int {
        Device *dev = nullptr;
        int st = first_device(d, &dev);
        if (st != HAILO_SUCCESS)
            return st;
        *out = hrt_identity{};
        copy_str(out->device_id, sizeof(out->device_id), dev->get_dev_id());
        HRT_TRY(id, dev->identify());
        copy_str(out->architecture, sizeof(out->architecture),
                 HailoRTCommon::get_device_arch_str(id.device_architecture));
        copy_str(out->fw_version, sizeof(out->fw_version),
                 std::to_string(id.fw_version.major) + "." + std::to_string(id.fw_version.minor) +
                     "." + std::to_string(id.fw_version.revision));
        /* Best effort: a device that cannot say is still identified. */
        auto temp = dev->get_chip_temperature();
        if (temp.has_value()) {
            out->has_temperature = true;
            out->temperature_celsius = std::max(temp->ts0_temperature, temp->ts1_temperature);
        }
        return HAILO_SUCCESS;
    });
}

/* ---- InferModel ---------------------------------------------------------------- */

static hrt_stream_info stream_info(InferModel::InferStream &s)
{
    hrt_stream_info info{};
    copy_str(info.name, sizeof(info.name), s.name());
    hailo_3d_image_shape_t shape = s.shape();
    hailo_format_t format = s.format();
    info.height = shape.height;
    info.width = shape.width;
    info.features = shape.features;
    info.order = order_of(format.order);
    info.type = type_of(format.type);
    info.frame_size = s.get_frame_size();
    return info;
}

extern "C" int hrt_net_open(hrt_device *d, const char *hef_path, const hrt_net_options *opt,
                            hrt_net **out)
{
    return guarded([&]() -> int {
        auto n = std::make_unique<hrt_net>();
        n->dev = d;
        HRT_TRY(model, d->vdevice->create_infer_model(hef_path));
        if (opt->batch_size > 0)
            model->set_batch_size(opt->batch_size);
        for (const auto &name : model->get_input_names()) {
            HRT_TRY(s, model->input(name));
            if (opt->input_type != HRT_TYPE_AUTO)
                s.set_format_type(hailo_type(opt->input_type));
            n->in.push_back(stream_info(s));
        }
        for (const auto &name : model->get_output_names()) {
            HRT_TRY(s, model->output(name));
            hrt_type want = hrt_output_type(order_of(s.format().order), opt->output_type);
            if (want != HRT_TYPE_AUTO)
                s.set_format_type(hailo_type(want));
            n->out.push_back(stream_info(s));
        }
        HRT_TRY(configured, model->configure());
        n->configured.emplace(std::move(configured));
        n->model = std::move(model);
        *out = n.release();
        return HAILO_SUCCESS;
    });
}

/* Forgets kept runs HailoRT has finished with (their callback released them). */
static void reap_kept(hrt_net *n)
{
    n->kept.erase(std::remove_if(n->kept.begin(), n->kept.end(),
                                 [](const std::shared_ptr<run_state> &r) {
                                     std::lock_guard<std::mutex> lock(r->mu);
                                     return r->released;
                                 }),
                  n->kept.end());
}

extern "C" void hrt_net_close(hrt_net *n)
{
    if (!n)
        return;
    try {
        if (n->configured)
            (void)n->configured->shutdown();
        /* The shutdown makes pending replies come (or fail); wait a bounded
         * time, then leave what is left to the device's close. */
        auto until = std::chrono::steady_clock::now() + KEPT_RUN_CLOSE_WAIT;
        for (auto &r : n->kept) {
            std::unique_lock<std::mutex> lock(r->mu);
            r->cv.wait_until(lock, until, [&] { return r->remaining == 0; });
        }
        reap_kept(n);
        if (!n->kept.empty() && n->dev) {
            std::lock_guard<std::mutex> lock(n->dev->orphans_mu);
            for (auto &r : n->kept)
                n->dev->orphans.push_back(r);
        }
    } catch (...) {
        /* Closing must not throw; the destructor releases what is left. */
    }
    delete n;
}

extern "C" size_t hrt_net_n_inputs(const hrt_net *n)
{
    return n->in.size();
}

extern "C" size_t hrt_net_n_outputs(const hrt_net *n)
{
    return n->out.size();
}

extern "C" const hrt_stream_info *hrt_net_inputs(const hrt_net *n)
{
    return n->in.data();
}

extern "C" const hrt_stream_info *hrt_net_outputs(const hrt_net *n)
{
    return n->out.data();
}

static int bind_frame(hrt_net *n, size_t f, void *const *inputs, void *const *outputs,
                      ConfiguredInferModel::Bindings &b)
{
    for (size_t i = 0; i < n->in.size(); i++) {
        HRT_TRY(s, b.input(n->in[i].name));
        hailo_status st =
            s.set_buffer(MemoryView(inputs[f * n->in.size() + i], n->in[i].frame_size));
        if (st != HAILO_SUCCESS)
            return st;
    }
    for (size_t o = 0; o < n->out.size(); o++) {
        HRT_TRY(s, b.output(n->out[o].name));
        hailo_status st =
            s.set_buffer(MemoryView(outputs[f * n->out.size() + o], n->out[o].frame_size));
        if (st != HAILO_SUCCESS)
            return st;
    }
    return HAILO_SUCCESS;
}

extern "C" int hrt_net_run(hrt_net *n, size_t n_frames, void *const *inputs, void *const *outputs,
                           int timeout_ms, hrt_release_fn release, void *owner, unsigned *flags)
{
    *flags = 0;
    auto state = std::make_shared<run_state>();
    int rc = guarded([&]() -> int {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        auto left = [&] {
            auto d = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            return d.count() > 0 ? d : std::chrono::milliseconds(0);
        };
        std::vector<ConfiguredInferModel::Bindings> bindings;
        reap_kept(n);
        bindings.reserve(n_frames);
        for (size_t f = 0; f < n_frames; f++) {
            HRT_TRY(b, n->configured->create_bindings());
            int st = bind_frame(n, f, inputs, outputs, b);
            if (st != HAILO_SUCCESS)
                return st;
            bindings.push_back(std::move(b));
        }
        /* Every frame queued, so the device batches them; completion is
         * counted by the callbacks, never by a wait that may time out. */
        int st = HAILO_SUCCESS;
        for (size_t f = 0; f < n_frames && st == HAILO_SUCCESS; f++) {
            st = n->configured->wait_for_async_ready(left());
            if (st != HAILO_SUCCESS)
                break;
            {
                std::lock_guard<std::mutex> lock(state->mu);
                state->remaining++;
            }
            auto job = n->configured->run_async(bindings[f],
                                                [state](const AsyncInferCompletionInfo &info) {
                                                    state->complete(static_cast<int>(info.status));
                                                });
            if (!job.has_value()) {
                /* HailoRT dropped the request (no callback comes) and shut
                 * the configured model down. */
                std::lock_guard<std::mutex> lock(state->mu);
                state->remaining--;
                *flags |= HRT_RUN_NET_DOWN;
                st = static_cast<int>(job.status());
                break;
            }
            job->detach();
        }
        std::unique_lock<std::mutex> lock(state->mu);
        state->cv.wait_until(lock, deadline, [&] { return state->remaining == 0; });
        if (state->remaining > 0) {
            state->kept = true;
            state->release = release;
            state->owner = owner;
            *flags |= HRT_RUN_KEPT;
            return st != HAILO_SUCCESS ? st : static_cast<int>(HAILO_TIMEOUT);
        }
        return st != HAILO_SUCCESS ? st : state->first_error;
    });
    if (*flags & HRT_RUN_KEPT) {
        try {
            n->kept.push_back(state);
        } catch (...) {
            /* No room to remember it: the callback still releases it. */
        }
    }
    return rc;
}

/* ---- GenAI VLM and LLM ---------------------------------------------------------------- */

template <typename P> static void set_optimize(P &params, bool optimize)
{
    if constexpr (has_optimize_memory<P>::value)
        params.set_optimize_memory_on_device(optimize);
    else
        (void)optimize;
}

template <typename M> static bool optimize_supported()
{
    return has_optimize_memory<M>::value;
}

extern "C" int hrt_genai_open(hrt_device *d, const char *hef_path, bool vlm, bool optimize_memory,
                              hrt_genai **out)
{
    return guarded([&]() -> int {
        auto g = std::make_unique<hrt_genai>();
        if (vlm) {
            if constexpr (!vlm_takes_messages<genai::VLM>::value)
                return HAILO_NOT_IMPLEMENTED; /* 5.0: no structured messages */
            if (optimize_memory && !optimize_supported<genai::VLMParams>())
                return HAILO_NOT_IMPLEMENTED;
            genai::VLMParams params;
            hailo_status st = params.set_model(hef_path);
            if (st != HAILO_SUCCESS)
                return st;
            set_optimize(params, optimize_memory);
            HRT_TRY(model, genai::VLM::create(d->vdevice, params));
            g->vlm = std::make_unique<genai::VLM>(std::move(model));
            hrt_stream_info &f = g->frame;
            copy_str(f.name, sizeof(f.name), "frame");
            const hailo_3d_image_shape_t &shape = g->vlm->input_frame_shape();
            f.height = shape.height;
            f.width = shape.width;
            f.features = shape.features;
            f.order = order_of(g->vlm->input_frame_format_order());
            f.type = type_of(g->vlm->input_frame_format_type());
            f.frame_size = g->vlm->input_frame_size();
        } else {
            if constexpr (!llm_takes_messages<genai::LLM>::value)
                return HAILO_NOT_IMPLEMENTED;
            if (optimize_memory && !optimize_supported<genai::LLMParams>())
                return HAILO_NOT_IMPLEMENTED;
            genai::LLMParams params;
            hailo_status st = params.set_model(hef_path);
            if (st != HAILO_SUCCESS)
                return st;
            set_optimize(params, optimize_memory);
            HRT_TRY(model, genai::LLM::create(d->vdevice, params));
            g->llm = std::make_unique<genai::LLM>(std::move(model));
        }
        *out = g.release();
        return HAILO_SUCCESS;
    });
}

extern "C" void hrt_genai_close(hrt_genai *g)
{
    delete g;
}

extern "C" void hrt_genai_frame_info(const hrt_genai *g, hrt_stream_info *out)
{
    *out = g->frame;
}

template <typename M>
static void special_tokens_of(M &m, void (*on_text)(void *, const char *), void *ctx)
{
    if constexpr (has_stop_tokens<M>::value) {
        auto stops = m.get_stop_tokens();
        if (stops.has_value())
            for (const auto &s : stops.value())
                on_text(ctx, s.c_str());
    }
    if constexpr (has_recovery<M>::value) {
        auto seq = m.get_generation_recovery_sequence();
        if (seq.has_value())
            on_text(ctx, seq.value().c_str());
    }
}

extern "C" int hrt_genai_special_tokens(hrt_genai *g, void (*on_text)(void *ctx, const char *text),
                                        void *ctx)
{
    return guarded([&]() -> int {
        if (g->vlm)
            special_tokens_of(*g->vlm, on_text, ctx);
        else
            special_tokens_of(*g->llm, on_text, ctx);
        return HAILO_SUCCESS;
    });
}

static int apply_params(genai::LLMGeneratorParams &params, const hrt_gen_params *p)
{
    hailo_status st = HAILO_SUCCESS;
    if (st == HAILO_SUCCESS && p->set_temperature)
        st = params.set_temperature(p->temperature);
    if (st == HAILO_SUCCESS && p->set_top_p)
        st = params.set_top_p(p->top_p);
    if (st == HAILO_SUCCESS && p->set_top_k)
        st = params.set_top_k(p->top_k);
    if (st == HAILO_SUCCESS && p->set_frequency_penalty)
        st = params.set_frequency_penalty(p->frequency_penalty);
    if (st == HAILO_SUCCESS && p->set_do_sample)
        st = params.set_do_sample(p->do_sample);
    if (st == HAILO_SUCCESS && p->set_seed)
        st = params.set_seed(p->seed);
    if (st == HAILO_SUCCESS && p->max_tokens > 0)
        st = params.set_max_generated_tokens(p->max_tokens);
    return static_cast<int>(st);
}

template <typename M>
static int vlm_start(M &vlm, const genai::LLMGeneratorParams &params,
                     const std::vector<std::string> &msgs, const std::vector<MemoryView> &views,
                     std::optional<genai::LLMGeneratorCompletion> &out)
{
    if constexpr (vlm_takes_messages<M>::value) {
        HRT_TRY(completion, vlm.generate(params, msgs, views));
        out.emplace(std::move(completion));
        return HAILO_SUCCESS;
    } else {
        (void)vlm, (void)params, (void)msgs, (void)views, (void)out;
        return HAILO_NOT_IMPLEMENTED;
    }
}

/* The LLM in steps, so that a refusal of the chat template (write) is told
 * apart from the device's answers (create_generator, generate). */
template <typename M>
static int llm_start(M &llm, const genai::LLMGeneratorParams &params,
                     const std::vector<std::string> &msgs, const std::vector<std::string> &tools,
                     const char *raw_prompt, std::optional<genai::LLMGeneratorCompletion> &out,
                     int *stage)
{
    HRT_TRY(generator, llm.create_generator(params));
    hailo_status st;
    *stage = HRT_START_TEMPLATE;
    if (raw_prompt) {
        if constexpr (writes_string<genai::LLMGenerator>::value)
            st = generator.write(std::string(raw_prompt));
        else
            st = generator.write(raw_prompt, std::strlen(raw_prompt));
    } else if constexpr (llm_takes_tools<M>::value) {
        st = generator.write(msgs, tools);
    } else if constexpr (llm_takes_messages<M>::value) {
        /* 5.0.1 to 5.1: messages, but no tools for the template. */
        if (!tools.empty()) {
            *stage = HRT_START_DEVICE;
            return static_cast<int>(HAILO_NOT_IMPLEMENTED);
        }
        st = generator.write(msgs);
    } else {
        (void)msgs, (void)tools;
        st = HAILO_NOT_IMPLEMENTED;
    }
    if (st != HAILO_SUCCESS)
        return static_cast<int>(st);
    *stage = HRT_START_DEVICE;
    HRT_TRY(completion, generator.generate());
    out.emplace(std::move(completion));
    return HAILO_SUCCESS;
}

extern "C" int hrt_genai_start(hrt_genai *g, const char *const *messages, size_t n_messages,
                               const char *const *tools, size_t n_tools, const char *raw_prompt,
                               void *const *frames, size_t n_frames, const hrt_gen_params *p,
                               hrt_gen **out, int *stage)
{
    *stage = HRT_START_DEVICE;
    return guarded([&]() -> int {
        std::vector<std::string> msgs;
        if (messages)
            msgs.assign(messages, messages + n_messages);
        std::vector<std::string> tool_v;
        if (tools)
            tool_v.assign(tools, tools + n_tools);
        auto gen = std::make_unique<hrt_gen>();
        if (g->vlm) {
            std::vector<MemoryView> views;
            for (size_t i = 0; i < n_frames; i++)
                views.emplace_back(frames[i], g->frame.frame_size);
            HRT_TRY(params, g->vlm->create_generator_params());
            int st = apply_params(params, p);
            if (st != HAILO_SUCCESS)
                return st;
            /* The VLM renders its template inside generate(): a refusal
             * comes back from the same call as the device's answers. */
            st = vlm_start(*g->vlm, params, msgs, views, gen->completion);
            if (st == HAILO_INTERNAL_FAILURE || st == HAILO_INVALID_OPERATION)
                *stage = HRT_START_TEMPLATE;
            if (st != HAILO_SUCCESS)
                return st;
        } else {
            HRT_TRY(params, g->llm->create_generator_params());
            int st = apply_params(params, p);
            if (st != HAILO_SUCCESS)
                return st;
            st = llm_start(*g->llm, params, msgs, tool_v, raw_prompt, gen->completion, stage);
            if (st != HAILO_SUCCESS)
                return st;
        }
        *out = gen.release();
        return HAILO_SUCCESS;
    });
}

static int state_of(genai::LLMGeneratorCompletion::Status s)
{
    using Status = genai::LLMGeneratorCompletion::Status;
    if (s == Status::GENERATING)
        return HRT_GEN_GENERATING;
    if (s == Status::MAX_TOKENS_REACHED)
        return HRT_GEN_MAX_TOKENS;
    if (s == Status::LOGICAL_END_OF_GENERATION)
        return HRT_GEN_LOGICAL_END;
    return HRT_GEN_ABORTED;
}

extern "C" int hrt_gen_read(hrt_gen *gen, int timeout_ms, const char **text, size_t *len,
                            int *state)
{
    return guarded([&]() -> int {
        HRT_TRY(piece, gen->completion->read(std::chrono::milliseconds(timeout_ms)));
        gen->piece = std::move(piece);
        *text = gen->piece.c_str();
        *len = gen->piece.size();
        *state = state_of(gen->completion->generation_status());
        return HAILO_SUCCESS;
    });
}

template <typename C> static int abort_completion(C &c)
{
    if constexpr (has_abort<C>::value)
        return static_cast<int>(c.abort());
    else
        return (void)c, static_cast<int>(HAILO_NOT_IMPLEMENTED);
}

extern "C" int hrt_gen_abort(hrt_gen *gen)
{
    return guarded([&]() -> int { return abort_completion(*gen->completion); });
}

extern "C" void hrt_gen_free(hrt_gen *gen)
{
    try {
        delete gen; /* HailoRT aborts a generation still running */
    } catch (...) {
        /* A destructor that throws leaves nothing we could do. */
    }
}

extern "C" int hrt_genai_count_tokens(hrt_genai *g, const char *text, size_t *count)
{
    return guarded([&]() -> int {
        auto tokens = g->vlm ? g->vlm->tokenize(text) : g->llm->tokenize(text);
        if (!tokens.has_value())
            return static_cast<int>(tokens.status());
        *count = tokens.value().size();
        return HAILO_SUCCESS;
    });
}

template <typename M> static int context_usage_of(M &m, size_t *tokens)
{
    if constexpr (has_context_usage<M>::value) {
        HRT_TRY(usage, m.get_context_usage_size());
        *tokens = usage;
        return HAILO_SUCCESS;
    } else {
        (void)m, (void)tokens;
        return HAILO_NOT_IMPLEMENTED;
    }
}

extern "C" int hrt_genai_context_usage(hrt_genai *g, size_t *tokens)
{
    return guarded([&]() -> int {
        return g->vlm ? context_usage_of(*g->vlm, tokens) : context_usage_of(*g->llm, tokens);
    });
}

extern "C" int hrt_genai_clear_context(hrt_genai *g)
{
    return guarded([&]() -> int {
        return static_cast<int>(g->vlm ? g->vlm->clear_context() : g->llm->clear_context());
    });
}

/* ---- Speech2Text -------------------------------------------------------------------- */

#ifdef HRT_HAVE_SPEECH2TEXT
extern "C" int hrt_s2t_open(hrt_device *d, const char *hef_path, hrt_s2t **out)
{
    return guarded([&]() -> int {
        genai::Speech2TextParams params(hef_path);
        HRT_TRY(s2t, genai::Speech2Text::create(d->vdevice, params));
        auto s = std::make_unique<hrt_s2t>();
        s->s2t = std::make_unique<genai::Speech2Text>(std::move(s2t));
        *out = s.release();
        return HAILO_SUCCESS;
    });
}

extern "C" void hrt_s2t_close(hrt_s2t *s)
{
    delete s;
}

extern "C" int hrt_s2t_segments(hrt_s2t *s, const float *samples, size_t n_samples,
                                const char *language, bool translate, int timeout_ms,
                                hrt_segment_cb on_segment, void *ctx)
{
    return guarded([&]() -> int {
        HRT_TRY(params, s->s2t->create_generator_params());
        hailo_status st = params.set_task(translate ? genai::Speech2TextTask::TRANSLATE
                                                    : genai::Speech2TextTask::TRANSCRIBE);
        /* No language: the model's default, the empty one, which detects it. */
        if (st == HAILO_SUCCESS && language)
            st = params.set_language(language);
        if (st != HAILO_SUCCESS)
            return static_cast<int>(st);
        /* HailoRT takes a mutable view but only reads the samples. */
        MemoryView audio(const_cast<float *>(samples), n_samples * sizeof(float));
        HRT_TRY(segments, s->s2t->generate_all_segments(audio, params,
                                                        std::chrono::milliseconds(timeout_ms)));
        for (const auto &seg : segments)
            if (on_segment(ctx, seg.start_sec, seg.end_sec, seg.text.c_str()) != 0)
                return HAILO_OUT_OF_HOST_MEMORY;
        return HAILO_SUCCESS;
    });
}
#else
/* HailoRT 5.0 has no Speech2Text. */
extern "C" int hrt_s2t_open(hrt_device *d, const char *hef_path, hrt_s2t **out)
{
    (void)d, (void)hef_path, (void)out;
    return HAILO_NOT_IMPLEMENTED;
}

extern "C" void hrt_s2t_close(hrt_s2t *s)
{
    delete s;
}

extern "C" int hrt_s2t_segments(hrt_s2t *s, const float *samples, size_t n_samples,
                                const char *language, bool translate, int timeout_ms,
                                hrt_segment_cb on_segment, void *ctx)
{
    (void)s, (void)samples, (void)n_samples, (void)language, (void)translate, (void)timeout_ms;
    (void)on_segment, (void)ctx;
    return HAILO_NOT_IMPLEMENTED;
}
#endif
