/*
 * registry-status.c - what the registry shows: the status / device_status
 * fields and the Prometheus families for loads, evictions, memory and the
 * device temperature.  Called from the loop thread; reads under r->mu.
 */
#include "manager/registry-internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/pyjson.h"
#include "common/timeutil.h"

static void json_set(cJSON *obj, const char *key, cJSON *val)
{
    if (!val)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, val);
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Device memory for accounting: configured, else what the backend reports
 * (asked without r->mu held: the device may take its time to answer, and
 * the workers must not wait for it; memory_total never changes). */
static uint64_t memory_total(registry *r)
{
    uint64_t total = r->memory_total;
    if (total == 0 && r->ops->identify) {
        device_info info;
        memset(&info, 0, sizeof info);
        if (r->ops->identify(r->dev, &info, NULL) == 0)
            total = info.memory_total_bytes;
    }
    return total;
}

/* Adds v as pyjson_add_float does, printing it only when it changed since
 * the last status (r->mu held). */
static void add_float_cached(cJSON *o, const char *name, double v, reg_float_text *cache)
{
    if (!cache->text[0] || cache->v != v) {
        if (pyfloat_repr(v, cache->text, sizeof cache->text) < 0) {
            cache->text[0] = 0;
            pyjson_add_float(o, name, v);
            return;
        }
        cache->v = v;
    }
    cJSON *item = cJSON_CreateRaw(cache->text);
    if (!item)
        return;
    item->valuedouble = v; /* as pyjson_float() leaves it */
    if (!cJSON_AddItemToObject(o, name, item))
        cJSON_Delete(item);
}

/* Each loaded model's counters are decimal text items (pyjson_uint): ping
 * prints them on every probe, and cJSON's number printer (printf and sscanf
 * per number) was most of a ping.  The memory and registry figures stay
 * cJSON numbers: the dashboard reads them from the tree (cJSON_IsNumber). */
static cJSON *model_json(reg_model *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "model_type", m->model_type);
    cJSON_AddStringToObject(o, "model_path", m->path);
    add_float_cached(o, "loaded_at", m->loaded_at, &m->loaded_at_text);
    add_float_cached(o, "last_used", m->last_used, &m->last_used_text);
    if (isinf(m->keep_alive))
        cJSON_AddNullToObject(o, "keep_alive"); /* resident until memory pressure */
    else
        pyjson_add_float(o, "keep_alive", m->keep_alive);
    cJSON_AddBoolToObject(o, "pinned", m->keep_alive < 0);
    pyjson_add_uint(o, "footprint_bytes", m->footprint);
    cJSON_AddBoolToObject(o, "footprint_estimated", !m->footprint_learned);
    pyjson_add_uint(o, "requests", m->requests);
    pyjson_add_uint(o, "errors", m->errors);
    pyjson_add_uint(o, "owners", (uint64_t)m->n_owners);
    pyjson_add_uint(o, "in_use", (uint64_t)m->in_use);
    if (m->draining)
        cJSON_AddBoolToObject(o, "draining", true);
    if (registry_keep_alive_expires(m->keep_alive)) {
        double left = m->keep_alive - (mono_ms() - m->last_used_mono) / 1000.0;
        pyjson_add_float(o, "expires_in_seconds", left > 0 ? round(left * 10) / 10 : 0);
    }
    return o;
}

void registry_status_json(registry *r, cJSON *status, bool device_status_form)
{
    uint64_t total, used;
    cJSON *memory = cJSON_CreateObject();
    cJSON *counters = cJSON_CreateObject();

    total = memory_total(r);
    pthread_mutex_lock(&r->mu);
    used = registry_used_bytes(r);
    if (device_status_form) {
        cJSON *networks = cJSON_CreateObject();
        cJSON *list = cJSON_AddArrayToObject(networks, "networks");
        /* v1 clients saw "ok" here whatever the residency (the old manager). */
        cJSON_AddStringToObject(networks, "status", "ok");
        cJSON_AddStringToObject(networks, "source", "device_manager");
        cJSON_AddNumberToObject(networks, "network_count", (double)r->n_models);
        for (reg_model *m = r->models; m && list; m = m->next) {
            cJSON *o = cJSON_CreateObject();
            if (!o)
                break;
            cJSON_AddStringToObject(o, "name", base_name(m->path));
            cJSON_AddStringToObject(o, "model_type", m->model_type);
            cJSON_AddStringToObject(o, "model_path", m->path);
            add_float_cached(o, "loaded_at", m->loaded_at, &m->loaded_at_text);
            add_float_cached(o, "last_used", m->last_used, &m->last_used_text);
            cJSON_AddItemToArray(list, o);
        }
        json_set(status, "networks", networks);
    } else {
        cJSON *list = cJSON_CreateArray();
        for (reg_model *m = r->models; m && list; m = m->next) {
            cJSON *o = model_json(m);
            if (o)
                cJSON_AddItemToArray(list, o);
        }
        json_set(status, "loaded_models", list);
    }
    json_set(status, "total_lru_evictions", pyjson_uint(r->total_lru_evictions));
    json_set(status, "runtime_broken_reason", str_or_null(r->runtime_broken_reason));
    json_set(status, "last_capacity_event_reason", str_or_null(r->last_capacity_reason));
    json_set(status, "last_capacity_event_model", str_or_null(r->last_capacity_model));
    json_set(status, "last_capacity_event_at",
             r->last_capacity_reason ? pyjson_float(r->last_capacity_at) : cJSON_CreateNull());
    cJSON_AddNumberToObject(memory, "total_bytes", (double)total);
    cJSON_AddNumberToObject(memory, "used_bytes", (double)used);
    cJSON_AddNumberToObject(counters, "loads", (double)r->loads);
    cJSON_AddNumberToObject(counters, "load_failures", (double)r->load_failures);
    cJSON_AddNumberToObject(counters, "unloads", (double)r->unloads);
    cJSON_AddNumberToObject(counters, "evictions_proactive", (double)r->evict_proactive);
    cJSON_AddNumberToObject(counters, "evictions_resource_exhausted", (double)r->evict_exhausted);
    cJSON_AddNumberToObject(counters, "evictions_keep_alive", (double)r->evict_keep_alive);
    cJSON_AddNumberToObject(counters, "genai_swaps", (double)r->evict_genai_swap);
    cJSON_AddNumberToObject(counters, "runtime_resets", (double)r->runtime_resets);
    pthread_mutex_unlock(&r->mu);
    json_set(status, "memory", memory);
    json_set(status, "registry", counters);
}

void registry_device_time_json(registry *r, cJSON *status)
{
    if (!r->ops->device_time_json)
        return;
    cJSON *dt = cJSON_CreateObject();
    if (dt && r->ops->device_time_json(r->dev, dt) == 0 && dt->child)
        json_set(status, "device_time", dt);
    else
        cJSON_Delete(dt);
}

static void family(buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void registry_metrics(registry *r, buf *out)
{
    uint64_t total, used;
    device_info info;
    bool have_info = false;

    memset(&info, 0, sizeof info);
    if (r->ops->identify && r->ops->identify(r->dev, &info, NULL) == 0)
        have_info = true;

    total = r->memory_total ? r->memory_total : info.memory_total_bytes;
    pthread_mutex_lock(&r->mu);
    used = registry_used_bytes(r);
    family(out, "hailo_model_loads_total", "counter", "Models loaded onto the device.");
    buf_printf(out, "hailo_model_loads_total %llu\n", (unsigned long long)r->loads);
    family(out, "hailo_model_load_failures_total", "counter", "Model loads that failed.");
    buf_printf(out, "hailo_model_load_failures_total %llu\n", (unsigned long long)r->load_failures);
    family(out, "hailo_model_unloads_total", "counter",
           "Models unloaded by unload_model requests.");
    buf_printf(out, "hailo_model_unloads_total %llu\n", (unsigned long long)r->unloads);
    family(out, "hailo_model_evictions_total", "counter",
           "Models unloaded by the registry, by reason.");
    buf_printf(out, "hailo_model_evictions_total{reason=\"proactive\"} %llu\n",
               (unsigned long long)r->evict_proactive);
    buf_printf(out, "hailo_model_evictions_total{reason=\"resource_exhausted\"} %llu\n",
               (unsigned long long)r->evict_exhausted);
    buf_printf(out, "hailo_model_evictions_total{reason=\"keep_alive\"} %llu\n",
               (unsigned long long)r->evict_keep_alive);
    buf_printf(out, "hailo_model_evictions_total{reason=\"genai_swap\"} %llu\n",
               (unsigned long long)r->evict_genai_swap);
    family(out, "hailo_model_load_seconds", "histogram", "Time to load a model, by model type.");
    for (int k = 0; k < MODEL_KIND__COUNT; k++) {
        char labels[64];
        snprintf(labels, sizeof labels, "model_type=\"%s\"", model_kind_name((model_kind)k));
        stats_hist_prometheus(&r->load_by_kind[k], out, "hailo_model_load_seconds", labels);
    }
    family(out, "hailo_models_resident", "gauge", "Models resident on the device.");
    buf_printf(out, "hailo_models_resident %zu\n", r->n_models);
    family(out, "hailo_model_resident_bytes", "gauge",
           "Device memory of each resident model (learned or estimated footprint).");
    for (const reg_model *m = r->models; m; m = m->next) {
        buf_printf(out, "hailo_model_resident_bytes{model_type=\"");
        stats_prom_escape(out, m->model_type);
        buf_printf(out, "\",model_path=\"");
        stats_prom_escape(out, m->path);
        buf_printf(out, "\",pinned=\"%s\"} %llu\n", m->keep_alive < 0 ? "true" : "false",
                   (unsigned long long)m->footprint);
    }
    family(out, "hailo_device_memory_total_bytes", "gauge", "Device memory used for accounting.");
    buf_printf(out, "hailo_device_memory_total_bytes %llu\n", (unsigned long long)total);
    family(out, "hailo_device_memory_used_bytes", "gauge", "Sum of resident model footprints.");
    buf_printf(out, "hailo_device_memory_used_bytes %llu\n", (unsigned long long)used);
    family(out, "hailo_runtime_resets_total", "counter",
           "Runtime context resets after repeated device errors.");
    buf_printf(out, "hailo_runtime_resets_total %llu\n", (unsigned long long)r->runtime_resets);
    family(out, "hailo_runtime_broken", "gauge",
           "1 while runtime_broken_reason is set (device errors not yet followed by a success).");
    buf_printf(out, "hailo_runtime_broken %d\n", r->runtime_broken_reason ? 1 : 0);
    pthread_mutex_unlock(&r->mu);
    if (have_info) {
        family(out, "hailo_model_recreations_total", "counter",
               "Configured models the backend re-created after the runtime shut them down "
               "(HailoRT does after a failed run).");
        buf_printf(out, "hailo_model_recreations_total %llu\n",
                   (unsigned long long)info.model_recreations);
    }
    if (have_info && !isnan(info.temperature_celsius)) {
        family(out, "hailo_device_temperature_celsius", "gauge", "Device temperature.");
        buf_printf(out, "hailo_device_temperature_celsius %.2f\n", info.temperature_celsius);
    }
}
