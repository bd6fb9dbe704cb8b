/*
 * job.c - priorities, the model_spec view of a job, and freeing a job.
 */
#include "job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer_input.h"

static const char *const priority_names[PRIO__COUNT] = {
    [PRIO_REALTIME] = "realtime",
    [PRIO_INTERACTIVE] = "interactive",
    [PRIO_NORMAL] = "normal",
    [PRIO_BATCH] = "batch",
};

int job_priority_parse(const char *name, job_priority *out)
{
    if (!name)
        return -1;
    for (int p = 0; p < PRIO__COUNT; p++) {
        if (strcmp(name, priority_names[p]) == 0) {
            *out = (job_priority)p;
            return 0;
        }
    }
    return -1;
}

const char *job_priority_name(job_priority p)
{
    if ((int)p < 0 || p >= PRIO__COUNT)
        return "normal";
    return priority_names[p];
}

const char *job_request_id_text(const job *j, char *buf, size_t size)
{
    const char *text = "";
    if (cJSON_IsString(j->request_id) || cJSON_IsRaw(j->request_id))
        text = j->request_id->valuestring;
    snprintf(buf, size, "%s", text);
    return buf;
}

int job_add_alias(job *j, const char *requested, const char *canonical)
{
    struct job_alias *grown = realloc(j->aliases, (j->n_aliases + 1) * sizeof(*grown));
    if (!grown)
        return -HDM_E_NOMEM;
    j->aliases = grown;
    char *req = strdup(requested), *canon = strdup(canonical);
    if (!req || !canon) {
        free(req);
        free(canon);
        return -HDM_E_NOMEM;
    }
    j->aliases[j->n_aliases++] = (struct job_alias){req, canon};
    return 0;
}

void job_model_spec(const job *j, model_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->kind = j->kind;
    spec->model_path = j->model_path;
    spec->params = j->model_params;
    spec->clip_image_hef = j->clip_image_hef;
    spec->clip_text_hef = j->clip_text_hef;
    spec->clip_text_input = j->clip_text_input;
    spec->clip_text_output = j->clip_text_output;
    spec->ocr_detection_hef = j->ocr_detection_hef;
    spec->ocr_recognition_hefs = j->ocr_recognition_hefs;
    spec->ocr_batch_sizes = j->ocr_batch_sizes;
    spec->allow = modelpath_dirs_list(j->dirs);
}

void job_free(job *j)
{
    if (!j)
        return;
    cJSON_Delete(j->request_id);
    modelpath_dirs_unref(j->dirs);
    for (size_t i = 0; i < j->n_aliases; i++) {
        free(j->aliases[i].requested);
        free(j->aliases[i].canonical);
    }
    free(j->aliases);
    free(j->model_type);
    free(j->model_path);
    cJSON_Delete(j->model_params);
    free(j->clip_image_hef);
    free(j->clip_text_hef);
    free(j->clip_text_input);
    free(j->clip_text_output);
    free(j->ocr_detection_hef);
    cJSON_Delete(j->ocr_recognition_hefs);
    cJSON_Delete(j->ocr_batch_sizes);
    if (j->action == JOB_INFER)
        infer_input_clear(&j->input);
    free(j->request_frame);
    for (size_t i = 0; i < j->n_owned; i++)
        free(j->owned[i]);
    free(j->owned);
    infer_output_clear(&j->out);
    free(j);
}
