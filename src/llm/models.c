/*
 * models.c - the models hailo-llm serves: the HEFs of models.dir.
 *
 * DESIGN.  The directory is the model list, as `ollama list` is Ollama's:
 * a file <name>.hef is the model <name> (lower-cased), named as the Hailo
 * GenAI model zoo names it (Qwen2.5-1.5B-Instruct.hef is
 * "qwen2.5-1.5b-instruct").  Ollama clients add a tag (":latest"), and
 * hailo-ollama named the same models "<name without size>:<size>"
 * ("qwen2.5-instruct:1.5b") or "<family>:<size>" ("qwen2:1.5b"), so those
 * aliases find the model too.  Each scan reads the directory afresh
 * (models appear and go without a restart); it is bounded by
 * models.max_models, reads only names and fstatat() results (no file is
 * opened: the manager opens the HEF, confined to its own allowed
 * directories), and skips symlinks and anything that is not a regular file,
 * so the list only names files inside the directory.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "llm/llm.h"

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/* A size part of a name: digits with an optional fraction, then b or m ("1.5b", "270m"). */
static bool is_size(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        size_t frac = 0;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, frac++;
        if (frac == 0)
            return false;
    }
    return digits > 0 && i + 1 == n &&
           (tolower((unsigned char)s[i]) == 'b' || tolower((unsigned char)s[i]) == 'm');
}

/* The dash-separated part of name that is a size: its offset and length. */
static bool find_size(const char *name, size_t *at, size_t *len)
{
    const char *p = name;
    while (*p) {
        const char *q = strchr(p, '-');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (p != name && is_size(p, n)) { /* never the first part: that is the family */
            *at = (size_t)(p - name);
            *len = n;
            return true;
        }
        if (!q)
            break;
        p = q + 1;
    }
    return false;
}

void llm_model_name_parts(const char *name, char *family, size_t family_len, char *size,
                          size_t size_len)
{
    size_t at, len;
    if (!find_size(name, &at, &len)) {
        snprintf(family, family_len, "%s", name);
        if (size_len)
            size[0] = '\0';
        return;
    }
    snprintf(family, family_len, "%.*s", (int)(at - 1), name);
    snprintf(size, size_len, "%.*s", (int)len, name + at);
    for (char *c = size; *c; c++)
        *c = (char)toupper((unsigned char)*c);
}

static int cmp_model(const void *a, const void *b)
{
    return strcmp(((const llm_model *)a)->name, ((const llm_model *)b)->name);
}

/* Fills m from the directory entry `file` (already checked); false to skip it. */
static bool entry_model(const llm_config *cfg, int dfd, const char *file, llm_model *m)
{
    size_t n = strlen(file);
    if (n <= 4 || strcasecmp(file + n - 4, ".hef") != 0 || n - 4 > LLM_MAX_NAME)
        return false;
    for (size_t i = 0; i < n - 4; i++)
        if (!name_char(file[i]))
            return false;
    struct stat st;
    if (fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return false;
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n - 4; i++)
        m->name[i] = (char)tolower((unsigned char)file[i]);
    snprintf(m->path, sizeof(m->path), "%s/%s", cfg->models_dir, file);
    llm_model_name_parts(m->name, m->family, sizeof(m->family), m->size_label,
                         sizeof(m->size_label));
    m->bytes = (uint64_t)st.st_size;
    m->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    uint64_t h = hash_fnv1a(HASH_FNV1A_SEED, m->name, strlen(m->name) + 1);
    h = hash_fnv1a(h, &m->bytes, sizeof(m->bytes));
    h = hash_fnv1a(h, &m->mtime_ns, sizeof(m->mtime_ns));
    snprintf(m->digest, sizeof(m->digest), "%016llx", (unsigned long long)h);
    return true;
}

int llm_models_scan(const llm_config *cfg, llm_models *out)
{
    memset(out, 0, sizeof(*out));
    int dfd = open(cfg->models_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return 0; /* no directory, no models: the listing says so */
    }
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        llm_model m;
        if (e->d_name[0] == '.' || !entry_model(cfg, dfd, e->d_name, &m))
            continue;
        if (out->n >= (size_t)cfg->max_models) {
            out->truncated = true;
            break;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            llm_model *grown = realloc(out->items, ncap * sizeof(*grown));
            if (!grown) {
                rc = -HDM_E_NOMEM;
                break;
            }
            out->items = grown;
            cap = ncap;
        }
        out->items[out->n++] = m;
    }
    closedir(d);
    if (rc < 0) {
        llm_models_free(out);
        return rc;
    }
    if (out->truncated)
        log_warn("%s holds more than %d models (models.max_models); the rest are not listed",
                 cfg->models_dir, cfg->max_models);
    if (out->n > 1)
        qsort(out->items, out->n, sizeof(out->items[0]), cmp_model);
    return 0;
}

void llm_models_free(llm_models *m)
{
    if (!m)
        return;
    free(m->items);
    memset(m, 0, sizeof(*m));
}

/* The two aliases of a model name (empty when it has no size part). */
static void aliases(const llm_model *m, char *a1, size_t l1, char *a2, size_t l2)
{
    size_t at, len;
    a1[0] = a2[0] = '\0';
    if (!find_size(m->name, &at, &len))
        return;
    const char *rest = m->name + at + len; /* "" or "-instruct" */
    snprintf(a1, l1, "%.*s%s:%.*s", (int)(at - 1), m->name, rest, (int)len, m->name + at);
    snprintf(a2, l2, "%.*s:%.*s", (int)(at - 1), m->name, (int)len, m->name + at);
}

const llm_model *llm_models_find(const llm_models *m, const char *name)
{
    char want[2 * LLM_MAX_NAME];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(want))
        return NULL;
    memcpy(want, name, n + 1);
    /* ":latest" is Ollama's default tag: the name without it. */
    if (n > 7 && strcasecmp(want + n - 7, ":latest") == 0)
        want[n - 7] = '\0';
    for (size_t i = 0; i < m->n; i++)
        if (strcasecmp(m->items[i].name, want) == 0)
            return &m->items[i];
    for (size_t i = 0; i < m->n; i++) {
        char a1[2 * LLM_MAX_NAME], a2[2 * LLM_MAX_NAME];
        aliases(&m->items[i], a1, sizeof(a1), a2, sizeof(a2));
        if ((a1[0] && strcasecmp(a1, want) == 0) || (a2[0] && strcasecmp(a2, want) == 0))
            return &m->items[i];
    }
    return NULL;
}

void llm_models_list_text(const llm_models *m, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    if (m->n == 0) {
        snprintf(out, len, "(none)");
        return;
    }
    for (size_t i = 0; i < m->n && o + 1 < len; i++) {
        int w = snprintf(out + o, len - o, "%s%s", i ? ", " : "", m->items[i].name);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    if (o >= len && len > 4)
        memcpy(out + len - 4, "...", 4);
}

cJSON *llm_model_details(const llm_model *m)
{
    cJSON *d = cJSON_CreateObject(), *fam;
    if (!d || !cJSON_AddStringToObject(d, "parent_model", "") ||
        !cJSON_AddStringToObject(d, "format", "hef") ||
        !cJSON_AddStringToObject(d, "family", m->family) ||
        !(fam = cJSON_AddArrayToObject(d, "families")))
        goto fail;
    cJSON *f = cJSON_CreateString(m->family);
    if (!f)
        goto fail;
    cJSON_AddItemToArray(fam, f);
    /* The quantisation is inside the HEF, which the service does not read. */
    if (!cJSON_AddStringToObject(d, "parameter_size", m->size_label) ||
        !cJSON_AddStringToObject(d, "quantization_level", ""))
        goto fail;
    return d;
fail:
    cJSON_Delete(d);
    return NULL;
}
