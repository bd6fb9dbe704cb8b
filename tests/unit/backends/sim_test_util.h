/*
 * sim_test_util.h - fixtures shared by the sim backend's unit tests: a
 * temporary directory with model files, sidecars and a sim config.
 */
#ifndef HDM_TEST_SIM_TEST_UTIL_H
#define HDM_TEST_SIM_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backends/backend-sim.h"

typedef struct simt {
    char dir[64];
    backend *b;
} simt;

/* Creates a fresh temporary directory; with config_text (JSON or YAML) not
 * NULL, writes it to <dir>/sim.conf and opens the sim backend on it. */
void simt_setup(simt *t, const char *config_text);
/* Closes the backend and removes the directory. */
void simt_teardown(simt *t);
/* Writes <dir>/name with content; returns the malloc'd path. */
char *simt_write(const simt *t, const char *name, const char *content);
/* Writes a model file (and, when sidecar is not NULL, <name>.sim.json). */
char *simt_model(const simt *t, const char *name, const char *sidecar);
/* Loads a model of kind at path, asserting success; clip gets two HEFs made
 * next to it.  *footprint (if not NULL) gets the reported footprint. */
backend_model *simt_load(simt *t, model_kind kind, const char *path, uint64_t *footprint);
/* Tries a load and returns its code (err filled). */
int simt_try_load(simt *t, model_kind kind, const char *path, hdm_err *err);
/* True when s is valid UTF-8. */
int simt_utf8_valid(const char *s, size_t len);
/* An image tensor of the given shape filled by a pattern from seed (data malloc'd). */
hdm_tensor simt_image(int ndim, const int64_t *shape, uint32_t seed);

#endif
