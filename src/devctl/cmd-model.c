/*
 * cmd-model.c - load and unload.
 */
#include <getopt.h>
#include <stdlib.h>

#include "devctl/devctl.h"

/* Prints the manager's "message" (or the whole answer with --json). */
static void print_message(devctl_ctx *ctx, hdm_response *resp)
{
    const cJSON *json = hdm_response_json(resp);
    if (ctx->json)
        devctl_print_json(ctx, json);
    else
        fprintf(ctx->out, "%s: %s %s\n", devctl_str(json, "message", "ok"),
                devctl_str(json, "model_type", ""), devctl_str(json, "model_path", ""));
}

static int load_exec(devctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"params", required_argument, NULL, 'p'},
                                         {"keep-alive", required_argument, NULL, 'k'},
                                         {NULL, 0, NULL, 0}};
    cJSON *params = NULL;
    double keep_alive = HDM_KEEP_ALIVE_DEFAULT;
    int c, r = DEVCTL_OK;
    while (r == DEVCTL_OK && (c = getopt_long(argc, argv, "p:k:", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'p':
            cJSON_Delete(params);
            params = cJSON_Parse(optarg);
            if (!cJSON_IsObject(params))
                r = devctl_usage(&devctl_cmd_load, "--params wants a JSON object, not %s", optarg);
            break;
        case 'k':
            keep_alive = strtod(optarg, &end);
            if (*end != '\0' || end == optarg || keep_alive < -1)
                r = devctl_usage(&devctl_cmd_load,
                                 "--keep-alive wants seconds (-1 pinned, 0 unload after use), "
                                 "not %s",
                                 optarg);
            break;
        default:
            r = devctl_usage(&devctl_cmd_load, "unknown option");
        }
    }
    if (r == DEVCTL_OK && argc - optind != 2)
        r = devctl_usage(&devctl_cmd_load, "wants TYPE and PATH");
    if (r != DEVCTL_OK) {
        cJSON_Delete(params);
        return r;
    }
    hdm_request *req = hdm_request_new("load_model");
    cJSON *json = hdm_request_json(req);
    cJSON_AddStringToObject(json, "model_type", argv[optind]);
    cJSON_AddStringToObject(json, "model_path", argv[optind + 1]);
    if (params != NULL)
        cJSON_AddItemToObject(json, "model_params", params);
    if (keep_alive != HDM_KEEP_ALIVE_DEFAULT)
        cJSON_AddNumberToObject(json, "keep_alive", keep_alive);
    hdm_response *resp;
    if ((r = devctl_call(ctx, req, &resp)) != DEVCTL_OK)
        return r;
    print_message(ctx, resp);
    hdm_response_free(resp);
    return DEVCTL_OK;
}

static int unload_exec(devctl_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return devctl_usage(&devctl_cmd_unload, "wants TYPE and PATH");
    hdm_request *req = hdm_request_new("unload_model");
    cJSON_AddStringToObject(hdm_request_json(req), "model_type", argv[1]);
    cJSON_AddStringToObject(hdm_request_json(req), "model_path", argv[2]);
    hdm_response *resp;
    int r = devctl_call(ctx, req, &resp);
    if (r != DEVCTL_OK)
        return r;
    print_message(ctx, resp);
    hdm_response_free(resp);
    return DEVCTL_OK;
}

const devctl_cmd devctl_cmd_load = {"load", "TYPE PATH [--params JSON] [--keep-alive S]",
                                    "load a model", load_exec};
const devctl_cmd devctl_cmd_unload = {"unload", "TYPE PATH", "unload a model", unload_exec};
