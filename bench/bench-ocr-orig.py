#!/usr/bin/python3
"""The original hailo-ocr's host-side steps for one request, timed: what GM's
service and the hailo-apps helpers it calls do on the CPU around the two NPU
calls (docs/BENCHMARKS.md, "hailo-ocr"; the steps are those of
ORIGINAL-SERVICES.md 2.4-2.6).  Our own lines, reproducing the same OpenCV,
numpy, shapely and pyclipper calls in the same order, so the time is the
original's (bench-audio-orig.py does the same for hailo-whisper's audio).

    bench-ocr-orig.py --inputs DIR [--runs N] [--threads 1|all] [--json]

DIR is what `bench-ocr --save-inputs DIR` wrote: page.jpg (the 1920x1080
page), heat.f32 (the 544x960 detection map) and rec.f32 (one 1x40x97
recognition output per box), the same bytes bench-ocr-service reads.  One
untimed request first, then N timed; the medians of wall-clock and process
CPU time (every thread) per step, as a Markdown table or, with --json, one
JSON object.  --threads 1 is cv2.setNumThreads(0) (OpenCV on the calling
thread); "all" leaves cv2 its default (every core), as the service ran.

The steps, as the C side names them:
  decode     cv2.imdecode(IMREAD_COLOR), cvtColor BGR -> RGB
  letterbox  resize_with_padding to 960x544: cv2.resize INTER_CUBIC,
             cv2.copyMakeBorder with 128
  boxes      resize_heatmap_to_original (cv2.resize INTER_CUBIC of the
             float map) and PaddleOCR's DBPostProcess: threshold,
             cv2.findContours, minAreaRect/boxPoints, box_score_fast
             (fillPoly, cv2.mean), unclip (shapely, pyclipper), rounding
  crops      get_cropped_text_images' cutting (boundingRect, fillPoly mask,
             bitwise_and, getPerspectiveTransform, warpPerspective), the
             service's sort by (y // 20, x), resize_with_padding to 48x320
             per crop
  ctc        ocr_eval_postprocess per output (numpy argmax/max, the CTC
             selection, the character list, np.mean)
"""
import argparse
import json
import os
import statistics
import time

import cv2
import numpy as np
import pyclipper
from shapely.geometry import Polygon

DET_H, DET_W = 544, 960
REC_H, REC_W = 48, 320
STEPS, CLASSES = 40, 97
PAD = 128
# DBPostProcess as hailo-apps builds it: thresh 0.3, box_thresh 0.6,
# max_candidates 1000, unclip_ratio 1.5, min_size 3, score "fast", quads.
BIN_THRESH, BOX_THRESH, MAX_CANDIDATES, UNCLIP, MIN_SIDE = 0.3, 0.6, 1000, 1.5, 3
# The recognition models' 97 classes: blank, then printable ASCII in the
# models' order, and two spaces.
CHARSET = (["blank"] + list("0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~")
           + list("!\"#$%&'()*+,-./") + [" ", " "])
STEP_NAMES = ["decode", "letterbox", "boxes", "crops", "ctc"]


def pad_to(img, out_h, out_w):
    """resize_with_padding: scale to fit, cubic, centred on grey 128."""
    src_h, src_w = img.shape[:2]
    s = min(out_w / src_w, out_h / src_h)
    nw, nh = int(src_w * s), int(src_h * s)
    small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_CUBIC)
    top, left = (out_h - nh) // 2, (out_w - nw) // 2
    fill = [PAD] * 3 if img.ndim == 3 else PAD
    return cv2.copyMakeBorder(small, top, out_h - nh - top, left, out_w - nw - left,
                              borderType=cv2.BORDER_CONSTANT, value=fill)


def map_to_image(heat, img_h, img_w):
    """resize_heatmap_to_original: the letterboxed part of the map, cubic, at image size."""
    s = min(DET_W / img_w, DET_H / img_h)
    nw, nh = int(img_w * s), int(img_h * s)
    x0, y0 = (DET_W - nw) // 2, (DET_H - nh) // 2
    return cv2.resize(heat[y0:y0 + nh, x0:x0 + nw], (img_w, img_h), interpolation=cv2.INTER_CUBIC)


def rect_corners(points):
    """get_mini_boxes: the minimum-area rectangle's corners, clockwise from
    the upper left one, and its shorter side."""
    rect = cv2.minAreaRect(points)
    c = sorted(list(cv2.boxPoints(rect)), key=lambda p: p[0])
    upper_l, lower_l = (c[0], c[1]) if c[1][1] > c[0][1] else (c[1], c[0])
    upper_r, lower_r = (c[2], c[3]) if c[3][1] > c[2][1] else (c[3], c[2])
    return [upper_l, upper_r, lower_r, lower_l], min(rect[1])


def quad_score(prob, quad):
    """box_score_fast: the mean probability inside the quadrilateral."""
    h, w = prob.shape[:2]
    q = quad.copy()
    x_lo = np.clip(np.floor(q[:, 0].min()).astype("int32"), 0, w - 1)
    x_hi = np.clip(np.ceil(q[:, 0].max()).astype("int32"), 0, w - 1)
    y_lo = np.clip(np.floor(q[:, 1].min()).astype("int32"), 0, h - 1)
    y_hi = np.clip(np.ceil(q[:, 1].max()).astype("int32"), 0, h - 1)
    inside = np.zeros((y_hi - y_lo + 1, x_hi - x_lo + 1), dtype=np.uint8)
    q[:, 0] = q[:, 0] - x_lo
    q[:, 1] = q[:, 1] - y_lo
    cv2.fillPoly(inside, q.reshape(1, -1, 2).astype("int32"), 1)
    return cv2.mean(prob[y_lo:y_hi + 1, x_lo:x_hi + 1], inside)[0]


def grow(quad, ratio):
    """unclip: a round offset by area * ratio / perimeter (Clipper)."""
    shape = Polygon(quad)
    dist = shape.area * ratio / shape.length
    off = pyclipper.PyclipperOffset()
    off.AddPath(quad, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    return np.array(off.Execute(dist))


def db_boxes(prob):
    """DBPostProcess on a (1, 1, H, W) map of an H x W image (its scale is 1)."""
    maps = prob[None, None, :, :][:, 0, :, :]
    above = maps > BIN_THRESH
    prob, bitmap = maps[0], above[0]
    height, width = bitmap.shape
    found = cv2.findContours((bitmap * 255).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    contours = found[1] if len(found) == 3 else found[0]
    quads = []
    for contour in contours[:min(len(contours), MAX_CANDIDATES)]:
        corners, short = rect_corners(contour)
        if short < MIN_SIDE:
            continue
        corners = np.array(corners)
        if BOX_THRESH > quad_score(prob, corners.reshape(-1, 2)):
            continue
        corners, short = rect_corners(grow(corners, UNCLIP).reshape(-1, 1, 2))
        if short < MIN_SIDE + 2:
            continue
        q = np.array(corners)
        q[:, 0] = np.clip(np.round(q[:, 0] / width * width), 0, width)
        q[:, 1] = np.clip(np.round(q[:, 1] / height * height), 0, height)
        quads.append(q.astype("int32"))
    return np.array(quads, dtype="int32")


def straighten(piece, quad):
    """warp_to_rectangle: the quadrilateral onto an upright rectangle."""
    src = quad.astype(np.float32)
    w = int(np.linalg.norm(src[0] - src[1]))
    h = int(np.linalg.norm(src[0] - src[3]))
    target = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, target)
    return cv2.warpPerspective(piece, m, (w, h), flags=cv2.INTER_LINEAR)


def cut(img, quads):
    """get_cropped_text_images' loop: a box's rectangle is listed before
    its crop is made, and a crop that raises is left out (the original's
    bare except, which prints; counted here instead)."""
    crops, rects, failed = [], [], 0
    for quad in quads:
        try:
            q = np.array(quad).astype(np.int32)
            x, y, w, h = cv2.boundingRect(q)
            rects.append([x, y, w, h])
            piece = img[y:y + h, x:x + w].copy()
            q[:, 0] -= x
            q[:, 1] -= y
            inside = np.zeros((h, w), dtype=np.uint8)
            cv2.fillPoly(inside, [q], 255)
            piece = cv2.bitwise_and(piece, piece, mask=inside)
            crops.append(straighten(piece, q))
        except Exception:  # noqa: BLE001 - the original catches everything
            failed += 1
    return crops, rects, failed


def read_text(raw):
    """ocr_eval_postprocess: greedy CTC of a B x T x C (or T x C) output,
    the raw values as probabilities; [(text, mean of the kept maxima)]."""
    chars = list(CHARSET)
    out = np.array(raw) if isinstance(raw, list) else raw
    if out.ndim == 2:
        out = np.expand_dims(out, axis=0)
    best_p = out.max(axis=2)
    best_i = out.argmax(axis=2)
    texts = []
    for b in range(len(best_i)):
        keep = np.ones(len(best_i[b]), dtype=bool)
        keep[1:] = best_i[b][1:] != best_i[b][:-1]
        for blank in [0]:
            keep &= best_i[b] != blank
        letters = [chars[i] for i in best_i[b][keep]]
        kept = best_p[b][keep]
        if len(kept) == 0:
            kept = [0]
        texts.append(("".join(letters), np.mean(kept).tolist()))
    return texts


def one_request(jpeg, heat, rec, times):
    """The host steps of one request; appends (wall ms, CPU ms) per step to
    times and returns what they produced."""
    out = {}

    def timed(name, fn):
        c0, t0 = time.process_time(), time.perf_counter()
        r = fn()
        times[name].append(((time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3))
        return r

    img = timed("decode", lambda: cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    out["det_input"] = timed("letterbox", lambda: pad_to(img, DET_H, DET_W))
    out["quads"] = timed("boxes", lambda: db_boxes(map_to_image(heat[:, :, 0], *img.shape[:2])))

    def crops():
        pieces, rects, out["failed"] = cut(img, out["quads"])
        ordered = sorted(zip(pieces, rects), key=lambda pr: (pr[1][1] // 20, pr[1][0]))
        out["rects"] = [r for _, r in ordered]
        out["crops"] = [p for p, _ in ordered]
        return [pad_to(p, REC_H, REC_W) for p in out["crops"]]
    out["rec_inputs"] = timed("crops", crops)
    out["texts"] = timed("ctc", lambda: [read_text(r)[0] for r in rec[:len(out["rec_inputs"])]])
    return out


def load_inputs(d):
    jpeg = np.frombuffer(open(os.path.join(d, "page.jpg"), "rb").read(), np.uint8)
    heat = np.fromfile(os.path.join(d, "heat.f32"), np.float32).reshape(DET_H, DET_W, 1)
    rec = np.fromfile(os.path.join(d, "rec.f32"), np.float32).reshape(-1, 1, STEPS, CLASSES)
    return jpeg, heat, rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", required=True, help="what bench-ocr --save-inputs wrote")
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--threads", choices=["1", "all"], default="1")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    args = ap.parse_args()
    if args.threads == "1":
        cv2.setNumThreads(0)
    jpeg, heat, rec = load_inputs(args.inputs)
    times = {k: [] for k in STEP_NAMES}
    out = one_request(jpeg, heat, rec, {k: [] for k in STEP_NAMES})  # untimed: first-call costs
    for _ in range(max(args.runs, 1)):
        out = one_request(jpeg, heat, rec, times)
    med = {}
    for k in STEP_NAMES:
        med[k] = [statistics.median(t[i] for t in times[k]) for i in (0, 1)]
    runs = len(times["decode"])
    for name, steps in (("total", STEP_NAMES), ("nodecode", STEP_NAMES[1:])):
        med[name] = [statistics.median(sum(times[k][r][i] for k in steps) for r in range(runs))
                     for i in (0, 1)]
    info = {"boxes": len(out["quads"]), "crops": len(out["crops"]), "failed": out["failed"],
            "chars": sum(len(t) for t, _ in out["texts"]), "runs": runs,
            "threads": args.threads, "cv2_threads": cv2.getNumThreads()}
    if args.json:
        print(json.dumps({"info": info, "steps": med}))
        return
    print("%d boxes, %d crops (%d failed), %d characters; cv2 threads %s (%d); median of %d runs."
          % (info["boxes"], info["crops"], info["failed"], info["chars"], args.threads,
             info["cv2_threads"], runs))
    print()
    print("| step | wall ms | CPU ms |\n|---|---:|---:|")
    for k in STEP_NAMES:
        print("| %s | %.2f | %.2f |" % (k, med[k][0], med[k][1]))
    print("| **total** | **%.2f** | **%.2f** |" % tuple(med["total"]))
    print("| total without decoding | %.2f | %.2f |" % tuple(med["nodecode"]))


if __name__ == "__main__":
    main()
