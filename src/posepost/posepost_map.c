/*
 * posepost_map.c - hailo-apps' letterbox geometry (default_preprocess) and
 * the mapping of people back to the image (map_box_to_original_coords,
 * map_keypoints_to_original_coords, then the service's int()).
 *
 * DESIGN: Python's int() truncates towards zero and may produce any size
 * of integer before the clip; truncating in double and clipping there
 * gives the same integers without an out-of-range conversion.
 */
#include <math.h>

#include "posepost/posepost_internal.h"

int posepost_letterbox_init(posepost_letterbox *lb, int orig_w, int orig_h, int model_w,
                            int model_h, hdm_err *err)
{
    if (orig_w < 1 || orig_h < 1 || model_w < 1 || model_h < 1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "cannot letterbox a %dx%d image into %dx%d",
                           orig_w, orig_h, model_w, model_h);
    double sx = (double)model_w / (double)orig_w, sy = (double)model_h / (double)orig_h;
    double scale = sx <= sy ? sx : sy;
    int new_w = (int)((double)orig_w * scale), new_h = (int)((double)orig_h * scale);
    if (new_w < 1 || new_h < 1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "a %dx%d image is too thin: it would be %dx%d pixels inside the "
                           "%dx%d model input",
                           orig_w, orig_h, new_w, new_h, model_w, model_h);
    *lb = (posepost_letterbox){
        .orig_w = orig_w,
        .orig_h = orig_h,
        .model_w = model_w,
        .model_h = model_h,
        .scale = scale,
        .new_w = new_w,
        .new_h = new_h,
        .x_off = (model_w - new_w) / 2, /* both non-negative: // is / */
        .y_off = (model_h - new_h) / 2,
    };
    return 0;
}

/* int(v) clipped to [0, limit - 1]. */
static int trunc_clip(double v, int limit)
{
    double t = trunc(v);
    if (!(t > 0.0))
        return 0;
    if (t > (double)(limit - 1))
        return limit - 1;
    return (int)t;
}

/* np.clip(v, 0, limit - 1). */
static double clip(double v, int limit)
{
    double hi = (double)(limit - 1);
    v = v > 0.0 ? v : 0.0;
    return v < hi ? v : hi;
}

void posepost_map(const posepost_letterbox *lb, const posepost_person *person, posepost_pose *out)
{
    int xmin = trunc_clip((person->box[0] - lb->x_off) / lb->scale, lb->orig_w);
    int ymin = trunc_clip((person->box[1] - lb->y_off) / lb->scale, lb->orig_h);
    int xmax = trunc_clip((person->box[2] - lb->x_off) / lb->scale, lb->orig_w);
    int ymax = trunc_clip((person->box[3] - lb->y_off) / lb->scale, lb->orig_h);
    out->x = xmin;
    out->y = ymin;
    out->width = xmax - xmin;
    out->height = ymax - ymin;
    out->score = (double)person->score;
    for (int k = 0; k < POSEPOST_KEYPOINTS; k++) {
        double x = clip(((double)person->kpt[k][0] - lb->x_off) / lb->scale, lb->orig_w);
        double y = clip(((double)person->kpt[k][1] - lb->y_off) / lb->scale, lb->orig_h);
        out->kpt_xf[k] = x;
        out->kpt_yf[k] = y;
        out->kpt_x[k] = (int)x; /* in [0, W-1]: truncation is safe */
        out->kpt_y[k] = (int)y;
        out->kpt_conf[k] = person->kpt_conf[k];
    }
}
