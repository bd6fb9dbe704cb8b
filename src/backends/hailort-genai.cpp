/*
 * hailort-genai.cpp - the one C++ file: HailoRT's C++-only API (VDevice,
 * InferModel, GenAI VLM and Speech2Text) behind the C functions of
 * hailort-rt.h.
 *
 * DESIGN: kept as thin as possible.  Every function catches all exceptions
 * (std::bad_alloc from the standard library) and returns a hailo_status;
 * decisions (errors, layouts, prompts, stop strings) live in the C files.
 * HailoRT's Expected<T> is unwrapped with a small macro that returns its
 * status on failure.
 */
#include <hailo/hailort.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "hailort-rt.h"

using namespace hailort;

struct hrt_device {
    std::shared_ptr<VDevice> vdevice;
};

struct hrt_net {
    std::shared_ptr<InferModel> model;
    std::optional<ConfiguredInferModel> configured;
    std::vector<hrt_stream_info> in, out;
};

struct hrt_vlm {
    std::unique_ptr<genai::VLM> vlm;
    hrt_stream_info frame;
};

struct hrt_s2t {
    std::unique_ptr<genai::Speech2Text> s2t;
};

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
        /* HailoRT reports KiB. */
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
        /* Temperature and RAM are best effort: a device that cannot say is
         * still identified. */
        auto temp = dev->get_chip_temperature();
        if (temp.has_value()) {
            out->has_temperature = true;
            out->temperature_celsius = std::max(temp->ts0_temperature, temp->ts1_temperature);
        } else {
            auto health = dev->query_health_stats();
            if (health.has_value() && health->on_die_temperature > -1.0f) {
                out->has_temperature = true;
                out->temperature_celsius = health->on_die_temperature;
            }
        }
        uint64_t used = 0, total = 0;
        if (hrt_device_ram(d, &used, &total) == HAILO_SUCCESS) {
            out->has_ram = true;
            out->ram_used_bytes = used;
            out->ram_total_bytes = total;
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
            if (opt->output_type != HRT_TYPE_AUTO)
                s.set_format_type(hailo_type(opt->output_type));
            n->out.push_back(stream_info(s));
        }
        HRT_TRY(configured, model->configure());
        n->configured.emplace(std::move(configured));
        n->model = std::move(model);
        *out = n.release();
        return HAILO_SUCCESS;
    });
}

extern "C" void hrt_net_close(hrt_net *n)
{
    if (!n)
        return;
    try {
        if (n->configured)
            (void)n->configured->shutdown();
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
                           int timeout_ms)
{
    return guarded([&]() -> int {
        auto timeout = std::chrono::milliseconds(timeout_ms);
        std::vector<ConfiguredInferModel::Bindings> bindings;
        std::vector<AsyncInferJob> jobs;
        bindings.reserve(n_frames);
        jobs.reserve(n_frames);
        for (size_t f = 0; f < n_frames; f++) {
            HRT_TRY(b, n->configured->create_bindings());
            int st = bind_frame(n, f, inputs, outputs, b);
            if (st != HAILO_SUCCESS)
                return st;
            bindings.push_back(std::move(b));
        }
        if (n_frames == 1)
            return static_cast<int>(n->configured->run(bindings[0], timeout));
        /* Several frames: queue them all so the device batches them. */
        for (size_t f = 0; f < n_frames; f++) {
            hailo_status st = n->configured->wait_for_async_ready(timeout);
            if (st != HAILO_SUCCESS)
                return static_cast<int>(st);
            HRT_TRY(job, n->configured->run_async(bindings[f]));
            jobs.push_back(std::move(job));
        }
        int first_error = HAILO_SUCCESS;
        for (auto &job : jobs) {
            hailo_status st = job.wait(timeout);
            if (st != HAILO_SUCCESS && first_error == HAILO_SUCCESS)
                first_error = st;
        }
        return first_error;
    });
}

/* ---- VLM -------------------------------------------------------------------------- */

extern "C" int hrt_vlm_open(hrt_device *d, const char *hef_path, hrt_vlm **out)
{
    return guarded([&]() -> int {
        genai::VLMParams params(hef_path);
        /* Fits the model beside others on the 8 GB chip. */
        params.set_optimize_memory_on_device(true);
        HRT_TRY(vlm, genai::VLM::create(d->vdevice, params));
        auto v = std::make_unique<hrt_vlm>();
        v->vlm = std::make_unique<genai::VLM>(std::move(vlm));
        hrt_stream_info &f = v->frame;
        f = hrt_stream_info{};
        copy_str(f.name, sizeof(f.name), "frame");
        const hailo_3d_image_shape_t &shape = v->vlm->input_frame_shape();
        f.height = shape.height;
        f.width = shape.width;
        f.features = shape.features;
        f.order = order_of(v->vlm->input_frame_format_order());
        f.type = type_of(v->vlm->input_frame_format_type());
        f.frame_size = v->vlm->input_frame_size();
        *out = v.release();
        return HAILO_SUCCESS;
    });
}

extern "C" void hrt_vlm_close(hrt_vlm *v)
{
    delete v;
}

extern "C" void hrt_vlm_frame_info(const hrt_vlm *v, hrt_stream_info *out)
{
    *out = v->frame;
}

extern "C" int hrt_vlm_generate(hrt_vlm *v, const char *const *messages, size_t n_messages,
                                void *const *frames, size_t n_frames, const hrt_gen_params *p,
                                hrt_token_cb on_token, void *ctx, int *end)
{
    return guarded([&]() -> int {
        using Status = genai::LLMGeneratorCompletion::Status;
        std::vector<std::string> msgs(messages, messages + n_messages);
        std::vector<MemoryView> views;
        for (size_t i = 0; i < n_frames; i++)
            views.emplace_back(frames[i], v->frame.frame_size);

        HRT_TRY(params, v->vlm->create_generator_params());
        /* Temperature 0 asks for the most likely token every time: HailoRT
         * refuses a temperature <= 0, so greedy decoding is do_sample off
         * (with 1.0, the value its sampler treats as "leave as is"). */
        bool greedy = !(p->temperature > 0.0f);
        hailo_status st = params.set_temperature(greedy ? 1.0f : p->temperature);
        if (st == HAILO_SUCCESS)
            st = params.set_top_p(p->top_p);
        if (st == HAILO_SUCCESS)
            st = params.set_max_generated_tokens(p->max_tokens);
        if (st == HAILO_SUCCESS)
            st = params.set_do_sample(!greedy);
        if (st == HAILO_SUCCESS && p->has_seed)
            st = params.set_seed(p->seed);
        if (st != HAILO_SUCCESS)
            return static_cast<int>(st);

        HRT_TRY(completion, v->vlm->generate(params, msgs, views));
        auto timeout = std::chrono::milliseconds(p->read_timeout_ms);
        *end = HRT_END_LOGICAL;
        while (completion.generation_status() == Status::GENERATING) {
            HRT_TRY(piece, completion.read(timeout));
            if (on_token(ctx, piece.data(), piece.size()) != 0) {
                st = completion.abort();
                *end = HRT_END_ABORTED;
                return static_cast<int>(st);
            }
        }
        if (completion.generation_status() == Status::MAX_TOKENS_REACHED)
            *end = HRT_END_MAX_TOKENS;
        else if (completion.generation_status() == Status::ABORTED)
            *end = HRT_END_ABORTED;
        return HAILO_SUCCESS;
    });
}

extern "C" int hrt_vlm_count_tokens(hrt_vlm *v, const char *text, size_t *count)
{
    return guarded([&]() -> int {
        HRT_TRY(tokens, v->vlm->tokenize(text));
        *count = tokens.size();
        return HAILO_SUCCESS;
    });
}

extern "C" int hrt_vlm_context_usage(hrt_vlm *v, size_t *tokens)
{
    return guarded([&]() -> int {
        HRT_TRY(usage, v->vlm->get_context_usage_size());
        *tokens = usage;
        return HAILO_SUCCESS;
    });
}

extern "C" int hrt_vlm_clear_context(hrt_vlm *v)
{
    return guarded([&]() -> int { return static_cast<int>(v->vlm->clear_context()); });
}

/* ---- Speech2Text -------------------------------------------------------------------- */

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
        if (st == HAILO_SUCCESS)
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
