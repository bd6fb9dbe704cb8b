/*
 * models.c - the load_model requests a client succeeded with, kept so they
 * can be sent again after the manager restarts (it forgets every model).
 *
 * Keyed by model_type + model_path as the manager's registry is; the newest
 * load of a key replaces the older one (it may carry other params or
 * keep_alive).  The list is short (a handful of models per service), so a
 * linked list is the simple right shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"

/* "type\npath"; model_type defaults to "vlm" as on the wire.  NULL without a path. */
static char *model_key(const cJSON *req)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(req, "model_type");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(req, "model_path");
    if (!cJSON_IsString(path))
        return NULL;
    const char *t = cJSON_IsString(type) ? type->valuestring : "vlm";
    size_t len = strlen(t) + 1 + strlen(path->valuestring) + 1;
    char *key = malloc(len);
    if (key != NULL)
        snprintf(key, len, "%s\n%s", t, path->valuestring);
    return key;
}

static void entry_free(model_entry *e)
{
    free(e->key);
    cJSON_Delete(e->request);
    free(e);
}

/* Unlinks and frees the entry with `key`, if any. */
static void remove_key(model_entry **list, const char *key)
{
    for (model_entry **p = list; *p != NULL; p = &(*p)->next) {
        if (strcmp((*p)->key, key) == 0) {
            model_entry *gone = *p;
            *p = gone->next;
            entry_free(gone);
            return;
        }
    }
}

int models_remember(model_entry **list, const cJSON *req)
{
    char *key = model_key(req);
    if (key == NULL)
        return 0; /* the manager refuses a load without a path; nothing to replay */
    model_entry *e = calloc(1, sizeof(*e));
    cJSON *copy = cJSON_Duplicate(req, 1);
    if (e == NULL || copy == NULL) {
        free(key);
        free(e);
        cJSON_Delete(copy);
        return -HDM_E_NOMEM;
    }
    /* A replay gets a fresh request_id; the old one must not be reused. */
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "request_id");
    remove_key(list, key);
    e->key = key;
    e->request = copy;
    e->next = *list;
    *list = e;
    return 0;
}

void models_forget(model_entry **list, const cJSON *req)
{
    char *key = model_key(req);
    if (key == NULL)
        return;
    remove_key(list, key);
    free(key);
}

cJSON *models_snapshot(model_entry *list)
{
    if (list == NULL)
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    for (model_entry *e = list; e != NULL; e = e->next) {
        cJSON *copy = cJSON_Duplicate(e->request, 1);
        if (copy == NULL) {
            cJSON_Delete(arr);
            return NULL;
        }
        /* The list is newest first; replay in the order the loads happened. */
        cJSON_InsertItemInArray(arr, 0, copy);
    }
    return arr;
}

void models_free(model_entry **list)
{
    while (*list != NULL) {
        model_entry *next = (*list)->next;
        entry_free(*list);
        *list = next;
    }
}
