/*
 * pose_test_util.h - builds the nine YOLOv8-pose outputs from a case
 * description (tests/data/pose/README.md: an LCG background plus explicit
 * cells), as the golden fixtures were built in Python.
 */
#ifndef HDM_TESTS_POSE_TEST_UTIL_H
#define HDM_TESTS_POSE_TEST_UTIL_H

#include <cjson/cJSON.h>

#include "hailodm.h"

#define POSE_TEST_OUTPUTS 9

typedef struct pose_outputs {
    hdm_tensor t[POSE_TEST_OUTPUTS]; /* (1, g, g, C), levels 32/16/8 x box/cls/kpt */
} pose_outputs;

/* Builds the outputs a case description names; with batch = 0 the tensors
 * are (g, g, C) as GM's Python manager reports them. */
void pose_outputs_build(const cJSON *desc, int batch, pose_outputs *out);
/* Frees the tensors' data. */
void pose_outputs_free(pose_outputs *o);
/* The tensor of level (0: stride 32) and head (0 box, 1 cls, 2 kpt). */
float *pose_outputs_at(pose_outputs *o, int level, int head, int gy, int gx);

/* Reads tests/data/<rel> as JSON (fails the test when it cannot). */
cJSON *pose_load_json(const char *rel);

#endif
