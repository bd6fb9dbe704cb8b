/*
 * unclip.cpp - the one C++ file for libpolyclipping (Clipper 6.4, C++
 * only): ocr_unclip_offset of unclip.h.  Every exception is caught here.
 * The distance (plain arithmetic) is here too, next to its one user.
 */
#include <polyclipping/clipper.hpp>

#include <cmath>
#include <cstdlib>
#include <new>

#include "ocrpost/unclip.h"

extern "C" double ocr_unclip_distance(const float *xy, size_t n, double ratio)
{
    if (xy == nullptr || n < 2)
        return 0.0;
    /* GEOS Area::ofRing over the closed ring p0..p(n-1),p0: the shoelace
     * sum with x taken relative to p0, halved, absolute. */
    double sum = 0.0, x0 = xy[0];
    for (size_t i = 1; i < n; i++) {
        size_t next = i + 1 < n ? i + 1 : 0;
        double x = (double)xy[2 * i] - x0;
        sum += x * ((double)xy[2 * (i - 1) + 1] - (double)xy[2 * next + 1]);
    }
    double area = std::fabs(sum / 2.0);
    /* GEOS Length::ofLine over the same closed ring. */
    double length = 0.0;
    for (size_t i = 1; i <= n; i++) {
        size_t cur = i < n ? i : 0;
        double dx = (double)xy[2 * cur] - (double)xy[2 * (i - 1)];
        double dy = (double)xy[2 * cur + 1] - (double)xy[2 * (i - 1) + 1];
        length += std::sqrt(dx * dx + dy * dy);
    }
    if (!(length > 0.0))
        return 0.0;
    return area * ratio / length;
}

extern "C" int ocr_unclip_offset(const float *xy, size_t n, double delta, int32_t **out_xy,
                                 size_t *out_n, size_t *out_paths, hdm_err *err)
{
    if (xy == nullptr || n == 0 || out_xy == nullptr || out_n == nullptr || out_paths == nullptr)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "unclip: no polygon");
    if (!std::isfinite(delta) || std::fabs(delta) > OCR_UNCLIP_MAX_COORD)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "unclip: offset distance %g", delta);
    for (size_t i = 0; i < 2 * n; i++)
        if (!std::isfinite(xy[i]) || std::fabs(xy[i]) > OCR_UNCLIP_MAX_COORD)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "unclip: coordinate %g is not within +-%g",
                               (double)xy[i], OCR_UNCLIP_MAX_COORD);
    try {
        ClipperLib::Path path;
        path.reserve(n);
        for (size_t i = 0; i < n; i++) /* pyclipper: int(x), truncation */
            path.push_back(
                ClipperLib::IntPoint((ClipperLib::cInt)xy[2 * i], (ClipperLib::cInt)xy[2 * i + 1]));
        ClipperLib::ClipperOffset offset(2.0, 0.25);
        offset.AddPath(path, ClipperLib::jtRound, ClipperLib::etClosedPolygon);
        ClipperLib::Paths solution;
        offset.Execute(solution, delta);

        size_t total = 0;
        for (const auto &p : solution)
            total += p.size();
        int32_t *pts =
            static_cast<int32_t *>(std::malloc((total ? total : 1) * 2 * sizeof(int32_t)));
        if (pts == nullptr)
            return hdm_err_set(err, HDM_E_NOMEM, "unclip: out of memory for %zu points", total);
        size_t k = 0;
        for (const auto &p : solution)
            for (const auto &pt : p) {
                /* Inputs are bounded by OCR_UNCLIP_MAX_COORD and so is the
                 * offset: the result fits in 32 bits. */
                pts[2 * k] = (int32_t)pt.X;
                pts[2 * k + 1] = (int32_t)pt.Y;
                k++;
            }
        *out_xy = pts;
        *out_n = total;
        *out_paths = solution.size();
        return 0;
    } catch (const std::bad_alloc &) {
        return hdm_err_set(err, HDM_E_NOMEM, "unclip: out of memory");
    } catch (const std::exception &e) {
        return hdm_err_set(err, HDM_E_INTERNAL, "unclip: Clipper: %s", e.what());
    } catch (...) {
        return hdm_err_set(err, HDM_E_INTERNAL, "unclip: unknown C++ exception");
    }
}
