/*
 * devctl.h - hailo-devctl: the operator CLI of the device manager.
 *
 * Verbs are a table (after tmux's cmd_table): each entry names the verb, its
 * usage line and the function that runs it.  main.c parses the global
 * options, finds the verb (a unique prefix is enough) and runs it with the
 * verb's own arguments.  Every verb talks to the manager through libhailodm.
 */
#ifndef HDM_DEVCTL_H
#define HDM_DEVCTL_H

#include <stdbool.h>
#include <stdio.h>

#include "hailodm.h"

/* Exit codes: success, the manager refused or failed, bad command line. */
#define DEVCTL_OK 0
#define DEVCTL_FAIL 1
#define DEVCTL_USAGE 2

typedef struct devctl_ctx {
    hdm_client *client;
    const char *socket_path;
    bool json;      /* --json: print the manager's answers as JSON */
    int timeout_ms; /* --timeout, per request */
    FILE *out;
} devctl_ctx;

typedef struct devctl_cmd {
    const char *name;
    const char *usage; /* arguments after the verb */
    const char *help;  /* one line */
    int (*exec)(devctl_ctx *ctx, int argc, char **argv);
} devctl_cmd;

extern const devctl_cmd devctl_cmd_status, devctl_cmd_models, devctl_cmd_ping, devctl_cmd_load,
    devctl_cmd_unload, devctl_cmd_infer, devctl_cmd_watch;

/*
 * Sends `req` (freed here), prints the manager's error sentence to stderr on
 * failure, and returns the response in *out (caller frees) or NULL.
 * Returns DEVCTL_OK or DEVCTL_FAIL.
 */
int devctl_call(devctl_ctx *ctx, hdm_request *req, hdm_response **out);
/* Prints a JSON value (pretty) followed by a newline. */
void devctl_print_json(devctl_ctx *ctx, const cJSON *json);
/* Prints "hailo-devctl <verb>: usage: ..." to stderr and returns DEVCTL_USAGE. */
int devctl_usage(const devctl_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Number field of obj, or `fallback` when missing or not a number. */
double devctl_num(const cJSON *obj, const char *key, double fallback);
/* String field of obj, or `fallback`. */
const char *devctl_str(const cJSON *obj, const char *key, const char *fallback);
/* Formats a byte count as "1.5 GiB" into dst. */
void devctl_fmt_bytes(char *dst, size_t n, double bytes);
/* Formats a duration in seconds as "3.2s", "4m05s", "2h10m" into dst. */
void devctl_fmt_duration(char *dst, size_t n, double seconds);

/* ---- tables (table.c) ---- */

typedef struct table table;
/* A table with `ncols` columns and these headers. NULL when out of memory. */
table *table_new(int ncols, const char *const *headers);
/* Adds a row of ncols cells (copied). */
void table_row(table *t, const char *const *cells);
/* Prints aligned columns, two spaces apart; the last column is not padded. */
void table_print(table *t, FILE *out);
void table_free(table *t);

/* ---- the status view (view.c), shared by status and watch ---- */

/* Prints the readable status view of a status answer. */
void view_status(FILE *out, const cJSON *status);
/* Prints the loaded-models table of a status answer. */
void view_models(FILE *out, const cJSON *status);

#endif
