/*
 * client-restart.c - helper of test_client_restart.py: keeps calling the
 * manager through libhailodm while the test kills and restarts it.
 *
 * Usage: hdm-client-restart SOCKET MODEL_TYPE MODEL_PATH ITERATIONS INTERVAL_MS THREADS
 * Loads the model once, then each thread does ITERATIONS rounds of ping +
 * status, printing "ok <loaded>" per status (loaded = 1 when MODEL_PATH is in
 * loaded_models) or "fail <code> <sentence>".  The model is never loaded again
 * by this program: seeing it loaded after a restart proves the library
 * replayed it.  Exits 0 when every call succeeded.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hailodm.h"

static hdm_client *client;
static const char *model_path;
static int iterations, interval_ms;
static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;

static void report(int r, hdm_response *resp, int loaded)
{
    pthread_mutex_lock(&print_mu);
    if (r == 0)
        printf("ok %d\n", loaded);
    else
        printf("fail %s %s\n", hdm_error_code_name(r),
               resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(r));
    fflush(stdout);
    pthread_mutex_unlock(&print_mu);
}

static int model_listed(const hdm_response *resp)
{
    const cJSON *models =
        cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "loaded_models");
    const cJSON *m;
    cJSON_ArrayForEach(m, models)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "model_path");
        if (cJSON_IsString(p) && strcmp(p->valuestring, model_path) == 0)
            return 1;
    }
    return 0;
}

static void *worker(void *arg)
{
    long failures = 0;
    (void)arg;
    for (int i = 0; i < iterations; i++) {
        hdm_request *req = hdm_request_new("ping");
        hdm_response *resp = NULL;
        int r = hdm_call(client, req, 0, &resp);
        if (r != 0) {
            report(r, resp, 0);
            failures++;
        }
        hdm_response_free(resp);
        hdm_request_free(req);
        req = hdm_request_new("status");
        resp = NULL;
        r = hdm_call(client, req, 0, &resp);
        report(r, resp, r == 0 ? model_listed(resp) : 0);
        failures += r != 0;
        hdm_response_free(resp);
        hdm_request_free(req);
        struct timespec ts = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return (void *)failures;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s SOCKET MODEL_TYPE MODEL_PATH ITERATIONS INTERVAL_MS THREADS\n",
                argv[0]);
        return 2;
    }
    model_path = argv[3];
    iterations = atoi(argv[4]);
    interval_ms = atoi(argv[5]);
    int threads = atoi(argv[6]);
    if (threads < 1 || threads > 64 || iterations < 1 || interval_ms < 0) {
        fprintf(stderr, "bad ITERATIONS, INTERVAL_MS or THREADS\n");
        return 2;
    }
    hdm_client_options opts = {.socket_path = argv[1],
                               .client_name = "client-restart",
                               .connect_timeout_ms = 15000,
                               .request_timeout_ms = 20000};
    if (hdm_client_new(&opts, &client) != 0)
        return 1;
    hdm_response *resp = NULL;
    int r = hdm_load_model(client, argv[2], model_path, NULL, HDM_KEEP_ALIVE_DEFAULT, &resp);
    if (r != 0) {
        fprintf(stderr, "load_model failed: %s\n", hdm_response_error(resp));
        hdm_response_free(resp);
        hdm_client_free(client);
        return 1;
    }
    hdm_response_free(resp);
    printf("loaded\n");
    fflush(stdout);

    pthread_t tid[64];
    long failures = 0;
    for (int i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, worker, NULL);
    for (int i = 0; i < threads; i++) {
        void *f;
        pthread_join(tid[i], &f);
        failures += (long)f;
    }
    hdm_client_free(client);
    printf("done failures=%ld\n", failures);
    return failures == 0 ? 0 : 1;
}
