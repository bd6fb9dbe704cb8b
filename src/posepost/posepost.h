/*
 * posepost.h - YOLOv8s-pose post-processing (ORIGINAL-SERVICES.md §4.4,
 * §4.5): find the 9 head outputs by shape, decode the proposals (DFL boxes,
 * scores as they are, keypoints), top-k and greedy NMS, and map the people
 * back from the 640x640 letterbox to the image; plus drawing them.
 *
 * Numerically hailo-apps' PoseEstPostProcessing (hailo-ai/hailo-apps
 * 80f0b60, pose_estimation_utils.py) as GM's hailo-pose calls it
 * (regression_length 15, strides 8/16/32, one class): float32 where numpy
 * computes in float32, float64 where it promotes, numpy's own quicksort for
 * the two argsorts (so ties fall the same way), the "+1 pixel" IoU, and
 * truncation when mapping back.  Only the proposals that reach NMS are
 * decoded, which is where the speed comes from.
 *
 * One request, in order:
 *     posepost_letterbox_init(image size, 640, 640)   geometry (the pixels
 *                                                     are image's letterbox)
 *     ... the manager runs the model ...
 *     posepost_heads_find(outputs)                    the 9 tensors by shape
 *     posepost_decode(heads, params)                  people in model pixels
 *     posepost_map(letterbox, person) for each        people in image pixels
 *     [pose_render(image, poses)]                     for render=true
 *
 * Where the original misbehaves this library refuses (posepost_params_check):
 * a confidence threshold of 0 (the original then emits its zero padding as
 * people), thresholds outside [0, 1] or not numbers (an assertion, a 500
 * there), max_detections < 1 or absurdly large (a 500 or memory exhaustion).
 *
 * Library code: never logs; errors are hdm_err sentences.
 */
#ifndef HDM_POSEPOST_POSEPOST_H
#define HDM_POSEPOST_POSEPOST_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "hailodm.h"
#include "image/image.h"

#define POSEPOST_KEYPOINTS 17
#define POSEPOST_REG_MAX 15                      /* DFL bins 0..15 per box side */
#define POSEPOST_BOX_CHANNELS (4 * (POSEPOST_REG_MAX + 1))
#define POSEPOST_KPT_CHANNELS (3 * POSEPOST_KEYPOINTS)
#define POSEPOST_LEVELS 3                        /* strides 32, 16, 8, in this order */
#define POSEPOST_MAX_DETECTIONS 1000             /* largest max_detections accepted */
#define POSEPOST_MODEL_SIZE 640                  /* yolov8s_pose's input, square */
#define POSEPOST_SKELETON_PAIRS 19

/* COCO keypoint names, indices 0..16, as the original prints them. */
extern const char *const posepost_keypoint_names[POSEPOST_KEYPOINTS];
/* The original's skeleton, 0-based keypoint pairs in the order it emits them. */
extern const uint8_t posepost_skeleton[POSEPOST_SKELETON_PAIRS][2];
/* The strides of the three levels, in proposal order: 32, 16, 8. */
extern const int posepost_strides[POSEPOST_LEVELS];

/* ---- outputs (posepost_heads.c) ---------------------------------------------- */

/* The model's nine outputs, by level (0: stride 32, 1: 16, 2: 8).  Borrowed:
 * they point into the tensors given to posepost_heads_find. */
typedef struct posepost_heads {
    const unsigned char *box[POSEPOST_LEVELS]; /* gh x gw x 64 float32 (any alignment) */
    const unsigned char *cls[POSEPOST_LEVELS]; /* gh x gw x 1 */
    const unsigned char *kpt[POSEPOST_LEVELS]; /* gh x gw x 51 */
    int gh[POSEPOST_LEVELS], gw[POSEPOST_LEVELS];
    size_t proposals; /* sum of gh * gw: 8400 for 640x640 */
} posepost_heads;

/*
 * Finds the 9 outputs among outputs[0..n) by their shape (H, W, C) with
 * H = model_h / stride, W = model_w / stride and C = 64, 1 or 51, after
 * dropping leading dimensions of 1 (the C manager reports a batch of 1,
 * GM's Python manager none).  Names are ignored, as the original ignores
 * them, and so are outputs of any other shape.  All must be float32.
 * Returns 0, -HDM_E_BAD_REQUEST for a model size that is not a positive
 * multiple of 32 (at most 4096), -HDM_E_DEVICE_ERROR naming the missing or
 * doubled shape or the wrong dtype.
 */
int posepost_heads_find(const hdm_tensor *outputs, size_t n, int model_h, int model_w,
                        posepost_heads *out, hdm_err *err);

/* ---- decoding (posepost_decode.c) ---------------------------------------------- */

typedef struct posepost_params {
    double conf_threshold; /* a proposal needs score > this; (0, 1] */
    double iou_threshold;  /* suppress when IoU >= this; [0, 1] */
    int max_detections;    /* kept before NMS (top-k); 1..POSEPOST_MAX_DETECTIONS */
} posepost_params;

/* Returns 0, or -HDM_E_BAD_REQUEST naming the field and its allowed range. */
int posepost_params_check(const posepost_params *p, hdm_err *err);

/* One person as the decoder finds it, in model input pixels. */
typedef struct posepost_person {
    double box[4];                            /* xmin, ymin, xmax, ymax (float64) */
    float score;                              /* the class score, as the model gave it */
    float kpt[POSEPOST_KEYPOINTS][2];         /* x, y (float32, as the original keeps them) */
    double kpt_conf[POSEPOST_KEYPOINTS];      /* sigmoid of the visibility logit */
} posepost_person;

typedef struct posepost_result {
    posepost_person *people; /* malloc'd, best score first (the original's order) */
    size_t count;            /* <= max_detections */
} posepost_result;

/*
 * Decodes the proposals: those with score > conf_threshold, sorted by
 * score (numpy's argsort), the best max_detections of them decoded and
 * passed through greedy NMS.  On success *out holds the survivors (free
 * with posepost_result_free; count may be 0).  Returns 0,
 * -HDM_E_BAD_REQUEST for bad params, -HDM_E_DEVICE_ERROR when a person the
 * original would print has a score, box or keypoint that is not a finite
 * number (there the original fails with a 500), -HDM_E_NOMEM.
 */
int posepost_decode(const posepost_heads *heads, const posepost_params *p, posepost_result *out,
                    hdm_err *err);

/* Frees out->people and zeroes *out.  Accepts NULL and zeroed results. */
void posepost_result_free(posepost_result *r);

/* ---- back to the image (posepost_map.c) ------------------------------------------ */

/* hailo-apps' default_preprocess geometry: the image scaled by `scale` to
 * new_w x new_h and pasted at (x_off, y_off) on a model_w x model_h canvas
 * of grey 114. */
typedef struct posepost_letterbox {
    int orig_w, orig_h;
    int model_w, model_h;
    double scale;     /* min(model_w / orig_w, model_h / orig_h) */
    int new_w, new_h; /* int(orig * scale), truncated */
    int x_off, y_off; /* (model - new) // 2 */
} posepost_letterbox;

/*
 * Fills *lb for an orig_w x orig_h image.  Returns 0, or -HDM_E_BAD_REQUEST
 * for a size below 1, or for an image so thin that one side scales to 0
 * pixels (the original's cv2.resize fails there with a 500).
 */
int posepost_letterbox_init(posepost_letterbox *lb, int orig_w, int orig_h, int model_w,
                            int model_h, hdm_err *err);

/* One person in image pixels, as the original's JSON prints it. */
typedef struct posepost_pose {
    int x, y, width, height;                /* bbox */
    double score;                           /* bbox_confidence */
    double kpt_xf[POSEPOST_KEYPOINTS];      /* keypoints mapped and clipped, unrounded */
    double kpt_yf[POSEPOST_KEYPOINTS];
    int kpt_x[POSEPOST_KEYPOINTS];          /* int() of those, as printed */
    int kpt_y[POSEPOST_KEYPOINTS];
    double kpt_conf[POSEPOST_KEYPOINTS];
} posepost_pose;

/*
 * Maps one person back to the image: box corners int((v - off) / scale)
 * (truncating), clipped to the image, then width = xmax - xmin and
 * height = ymax - ymin; keypoints (v - off) / scale clipped to
 * [0, W-1] x [0, H-1], then truncated.
 */
void posepost_map(const posepost_letterbox *lb, const posepost_person *person,
                  posepost_pose *out);

/* ---- drawing (pose_render.c) ------------------------------------------------------ */

/*
 * Draws poses[0..n) onto img (RGB8, changed in place): each bbox, the
 * skeleton pairs whose two keypoints have confidence >= kpt_threshold, and
 * those keypoints.  Line widths follow the image size.  Coordinates are
 * clipped, so any pose is safe to draw.
 */
void pose_render(image *img, const posepost_pose *poses, size_t n, double kpt_threshold);

#endif
