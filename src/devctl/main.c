/*
 * main.c - hailo-devctl: global options, the verb table, shared helpers.
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "devctl/devctl.h"

static const devctl_cmd *const cmd_table[] = {
    &devctl_cmd_status, &devctl_cmd_models, &devctl_cmd_ping,  &devctl_cmd_load,
    &devctl_cmd_unload, &devctl_cmd_infer,  &devctl_cmd_watch, NULL,
};

static void usage(FILE *out)
{
    fprintf(out, "usage: hailo-devctl [--socket PATH] [--json] [--timeout MS] VERB [ARGS]\n"
                 "\n"
                 "Talks to hailo-device-manager (socket: --socket, $HAILO_DEVICE_SOCKET,\n"
                 "else /run/hailo/device.sock).\n\nverbs:\n");
    for (int i = 0; cmd_table[i] != NULL; i++)
        fprintf(out, "  %s%s%s\n      %s\n", cmd_table[i]->name, cmd_table[i]->usage[0] ? " " : "",
                cmd_table[i]->usage, cmd_table[i]->help);
}

/* The verb named `name` exactly or by a unique prefix (as tmux resolves commands). */
static const devctl_cmd *find_cmd(const char *name)
{
    const devctl_cmd *found = NULL;
    size_t len = strlen(name);
    for (int i = 0; cmd_table[i] != NULL; i++) {
        if (strcmp(cmd_table[i]->name, name) == 0)
            return cmd_table[i];
        if (strncmp(cmd_table[i]->name, name, len) == 0) {
            if (found != NULL) {
                fprintf(stderr, "hailo-devctl: ambiguous verb: %s\n", name);
                return NULL;
            }
            found = cmd_table[i];
        }
    }
    if (found == NULL)
        fprintf(stderr, "hailo-devctl: unknown verb: %s (see hailo-devctl --help)\n", name);
    return found;
}

int devctl_usage(const devctl_cmd *cmd, const char *fmt, ...)
{
    fprintf(stderr, "hailo-devctl %s: ", cmd->name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: hailo-devctl %s %s\n", cmd->name, cmd->usage);
    return DEVCTL_USAGE;
}

int devctl_call(devctl_ctx *ctx, hdm_request *req, hdm_response **out)
{
    *out = NULL;
    if (req == NULL) {
        fprintf(stderr, "hailo-devctl: out of memory\n");
        return DEVCTL_FAIL;
    }
    hdm_response *resp = NULL;
    int r = hdm_call(ctx->client, req, ctx->timeout_ms, &resp);
    hdm_request_free(req);
    if (r != 0) {
        const char *msg = resp ? hdm_response_error(resp) : NULL;
        if (ctx->json && resp != NULL)
            devctl_print_json(ctx, hdm_response_json(resp));
        fprintf(stderr, "hailo-devctl: %s (%s)\n", msg ? msg : hdm_strerror(r),
                hdm_error_code_name(r));
        hdm_response_free(resp);
        return DEVCTL_FAIL;
    }
    *out = resp;
    return DEVCTL_OK;
}

void devctl_print_json(devctl_ctx *ctx, const cJSON *json)
{
    char *s = cJSON_Print(json);
    if (s != NULL)
        fprintf(ctx->out, "%s\n", s);
    free(s);
}

double devctl_num(const cJSON *obj, const char *key, double fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

const char *devctl_str(const cJSON *obj, const char *key, const char *fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : fallback;
}

void devctl_fmt_bytes(char *dst, size_t n, double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(dst, n, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

void devctl_fmt_duration(char *dst, size_t n, double s)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    if (s < 60)
        snprintf(dst, n, "%.1fs", s);
    else if (s < 3600)
        snprintf(dst, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else if (s < 86400)
        snprintf(dst, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(dst, n, "%dd%02dh", (int)(s / 86400), (int)fmod(s / 3600, 24));
}

int main(int argc, char **argv)
{
    devctl_ctx ctx = {.out = stdout, .timeout_ms = 0};
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},  {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    int c;
    /* '+': stop at the verb; its own options are parsed by the verb. */
    while ((c = getopt_long(argc, argv, "+s:jt:hV", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's':
            ctx.socket_path = optarg;
            break;
        case 'j':
            ctx.json = true;
            break;
        case 't':
            ctx.timeout_ms = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || end == optarg || ctx.timeout_ms < 1) {
                fprintf(stderr, "hailo-devctl: --timeout wants milliseconds > 0, not %s\n", optarg);
                return DEVCTL_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return DEVCTL_OK;
        case 'V':
            printf("hailo-devctl %s\n", HDM_VERSION);
            return DEVCTL_OK;
        default:
            usage(stderr);
            return DEVCTL_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return DEVCTL_USAGE;
    }
    const devctl_cmd *cmd = find_cmd(argv[optind]);
    if (cmd == NULL)
        return DEVCTL_USAGE;

    /* The connect wait follows --timeout, so a missing manager fails as fast as asked. */
    hdm_client_options o = {.socket_path = ctx.socket_path,
                            .client_name = "hailo-devctl",
                            .connect_timeout_ms = ctx.timeout_ms ? ctx.timeout_ms : 2000,
                            .request_timeout_ms = ctx.timeout_ms};
    if (hdm_client_new(&o, &ctx.client) != 0) {
        fprintf(stderr, "hailo-devctl: cannot create a client\n");
        return DEVCTL_FAIL;
    }
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    optind = 0; /* glibc: 0 fully resets getopt for the verb's own parse */
    int r = cmd->exec(&ctx, sub_argc, sub_argv);
    hdm_client_free(ctx.client);
    return r;
}
