/*
 * cmd-status.c - the read-only verbs: status, models, ping, watch.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "devctl/devctl.h"

/* Verbs without options of their own still refuse stray arguments. */
static int no_args(const devctl_cmd *cmd, int argc, char **argv)
{
    if (argc > 1)
        return devctl_usage(cmd, "unexpected argument: %s", argv[1]);
    return DEVCTL_OK;
}

static int status_exec(devctl_ctx *ctx, int argc, char **argv)
{
    int r = no_args(&devctl_cmd_status, argc, argv);
    hdm_response *resp;
    if (r != DEVCTL_OK || (r = devctl_call(ctx, hdm_request_new("status"), &resp)) != DEVCTL_OK)
        return r;
    if (ctx->json)
        devctl_print_json(ctx, hdm_response_json(resp));
    else
        view_status(ctx->out, hdm_response_json(resp));
    hdm_response_free(resp);
    return DEVCTL_OK;
}

static int models_exec(devctl_ctx *ctx, int argc, char **argv)
{
    int r = no_args(&devctl_cmd_models, argc, argv);
    hdm_response *resp;
    if (r != DEVCTL_OK || (r = devctl_call(ctx, hdm_request_new("status"), &resp)) != DEVCTL_OK)
        return r;
    const cJSON *models =
        cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "loaded_models");
    if (ctx->json) {
        cJSON *empty = cJSON_CreateArray();
        devctl_print_json(ctx, models ? models : empty);
        cJSON_Delete(empty);
    } else {
        view_models(ctx->out, hdm_response_json(resp));
    }
    hdm_response_free(resp);
    return DEVCTL_OK;
}

static int ping_exec(devctl_ctx *ctx, int argc, char **argv)
{
    int r = no_args(&devctl_cmd_ping, argc, argv);
    hdm_response *resp;
    if (r != DEVCTL_OK)
        return r;
    double t0 = mono_s();
    if ((r = devctl_call(ctx, hdm_request_new("ping"), &resp)) != DEVCTL_OK)
        return r;
    double ms = (mono_s() - t0) * 1000.0;
    if (ctx->json)
        devctl_print_json(ctx, hdm_response_json(resp));
    else
        fprintf(ctx->out, "ok: %s answered in %.2f ms\n",
                devctl_str(hdm_response_json(resp), "device_id", "the device manager"), ms);
    hdm_response_free(resp);
    return DEVCTL_OK;
}

/*
 * watch: the status view again every --interval seconds (clearing the screen
 * when stdout is a terminal), --count times or until interrupted.  A failed
 * refresh is shown and the watch carries on: the manager may be restarting.
 */
static int watch_exec(devctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"interval", required_argument, NULL, 'i'},
                                         {"count", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    double interval = 1.0;
    long count = -1;
    int c;
    while ((c = getopt_long(argc, argv, "i:n:", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'i':
            interval = strtod(optarg, &end);
            if (*end != '\0' || end == optarg || !(interval >= 0.05 && interval <= 3600))
                return devctl_usage(&devctl_cmd_watch,
                                    "--interval wants seconds in [0.05, 3600], not %s", optarg);
            break;
        case 'n':
            count = strtol(optarg, &end, 10);
            if (*end != '\0' || end == optarg || count < 1)
                return devctl_usage(&devctl_cmd_watch, "--count wants a number >= 1, not %s",
                                    optarg);
            break;
        default:
            return devctl_usage(&devctl_cmd_watch, "unknown option");
        }
    }
    if (optind < argc)
        return devctl_usage(&devctl_cmd_watch, "unexpected argument: %s", argv[optind]);

    bool tty = !ctx->json && isatty(fileno(ctx->out));
    int failures = 0;
    for (long i = 0; count < 0 || i < count; i++) {
        if (i > 0)
            sleep_ms((int64_t)(interval * 1000));
        hdm_request *req = hdm_request_new("status");
        hdm_response *resp = NULL;
        int r = hdm_call(ctx->client, req, ctx->timeout_ms, &resp);
        hdm_request_free(req);
        if (tty)
            fputs("\033[H\033[2J", ctx->out);
        if (ctx->json) {
            devctl_print_json(ctx, hdm_response_json(resp));
        } else {
            time_t now = time(NULL);
            char when[32];
            strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
            fprintf(ctx->out, "hailo-devctl watch  %s  every %.2gs\n\n", when, interval);
            if (r == 0)
                view_status(ctx->out, hdm_response_json(resp));
            else
                fprintf(ctx->out, "error: %s\n",
                        resp && hdm_response_error(resp) ? hdm_response_error(resp)
                                                         : hdm_strerror(r));
            if (!tty)
                fprintf(ctx->out, "\n");
        }
        failures += r != 0;
        fflush(ctx->out);
        hdm_response_free(resp);
    }
    return failures == 0 ? DEVCTL_OK : DEVCTL_FAIL;
}

const devctl_cmd devctl_cmd_status = {"status", "", "device, queue, memory, models, clients",
                                      status_exec};
const devctl_cmd devctl_cmd_models = {"models", "", "the loaded models", models_exec};
const devctl_cmd devctl_cmd_ping = {"ping", "", "check that the manager answers", ping_exec};
const devctl_cmd devctl_cmd_watch = {"watch", "[--interval S] [--count N]",
                                     "refreshing status view", watch_exec};
