/*
 * imgproc.cpp - the one C++ file for OpenCV imgproc: the functions of
 * imgproc.h, each a thin wrapper that puts cv::Mat headers over the
 * caller's buffers (no copies), calls OpenCV and turns every exception into
 * a negative HDM_E_* code with a sentence.
 *
 * DESIGN: the point of calling OpenCV rather than writing these in C is
 * byte-identical results with the Python originals, which call the same
 * library through cv2: cubic resampling in fixed point, Suzuki border
 * following, rotating calipers, the scan-line polygon filler.  So the
 * wrappers add no arithmetic of their own beyond argument checks.  The
 * cubic resize is the exception: imgproc_cubic.c does it in C, bit for bit
 * (tested against the imgproc_cv_resize_cubic_* kept here).
 */
#include <opencv2/core.hpp>
#include <opencv2/core/core_c.h>
#include <opencv2/imgproc.hpp>
#include <opencv2/imgproc/imgproc_c.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "image/imgproc.h"
#include "image/imgproc_cubic.h"

namespace
{

/* Runs body; nothing may unwind into C. */
template <typename F> int guarded(hdm_err *err, const char *what, F &&body)
{
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory", what);
    } catch (const cv::Exception &e) {
        return hdm_err_set(err, HDM_E_INTERNAL, "%s: OpenCV: %s", what, e.what());
    } catch (const std::exception &e) {
        return hdm_err_set(err, HDM_E_INTERNAL, "%s: %s", what, e.what());
    } catch (...) {
        return hdm_err_set(err, HDM_E_INTERNAL, "%s: unknown C++ exception", what);
    }
}

int check_size(const char *what, int w, int h, hdm_err *err)
{
    if (w < 1 || h < 1 || w > IMGPROC_MAX_SIDE || h > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: size %dx%d is outside 1..%d", what, w, h,
                           IMGPROC_MAX_SIDE);
    return 0;
}

/* The row stride in bytes, 0 meaning packed; -1 when it is too small. */
long stride_of(size_t stride, int w, size_t elem)
{
    size_t row = (size_t)w * elem;
    if (stride == 0)
        return (long)row;
    return stride < row ? -1 : (long)stride;
}

int check_image(const char *what, const void *px, int w, int h, size_t stride, size_t elem,
                size_t *step, hdm_err *err)
{
    int rc = check_size(what, w, h, err);
    if (rc < 0)
        return rc;
    if (px == nullptr)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: no pixels", what);
    long s = stride_of(stride, w, elem);
    if (s < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: row stride %zu is below %zu bytes", what,
                           stride, (size_t)w * elem);
    *step = (size_t)s;
    return 0;
}

int check_channels(const char *what, int channels, hdm_err *err)
{
    if (channels < 1 || channels > 4)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: %d channels (1 to 4 allowed)", what,
                           channels);
    return 0;
}

/* A Mat header over caller memory; OpenCV never writes through a header
 * made from a const source here (the calls take them as InputArray). */
cv::Mat over(const void *px, int w, int h, int type, size_t step)
{
    return cv::Mat(h, w, type, const_cast<void *>(px), step);
}

} // namespace

/* What imgproc_set_threads was told (0: OpenCV's default): OpenCV's own
 * cv::getNumThreads still reports its pool after setNumThreads(0). */
static int threads_set;

extern "C" int imgproc_threads(void)
{
    int n = __atomic_load_n(&threads_set, __ATOMIC_RELAXED);
    if (n >= 1)
        return n;
    try {
        int c = cv::getNumThreads();
        return c > 1 ? c : 1;
    } catch (...) {
        return 1;
    }
}

extern "C" void imgproc_set_threads(int n)
{
    __atomic_store_n(&threads_set, n > 0 ? n : 0, __ATOMIC_RELAXED);
    /* OpenCV: 0 runs everything sequentially on the calling thread, -1
     * restores its default. */
    try {
        cv::setNumThreads(n == 1 ? 0 : n > 1 ? n : -1);
    } catch (...) { /* cannot fail in practice; nothing to report */
    }
}

extern "C" int imgproc_parallel_for(size_t n, void (*fn)(void *user, size_t begin, size_t end),
                                    void *user, hdm_err *err)
{
    if (fn == nullptr)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "parallel loop: no function");
    if (n == 0)
        return 0;
    if (n > (size_t)INT32_MAX)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "parallel loop: %zu items", n);
    return guarded(err, "parallel loop", [&] {
        /* One stripe per item: OpenCV hands stripes out to its threads as
         * they come free, which balances items of unequal cost. */
        cv::parallel_for_(
            cv::Range(0, (int)n),
            [&](const cv::Range &r) { fn(user, (size_t)r.start, (size_t)r.end); }, (double)n);
        return 0;
    });
}

extern "C" int imgproc_letterbox_geometry(int src_w, int src_h, int dst_w, int dst_h,
                                          imgproc_letterbox *out, hdm_err *err)
{
    int rc = check_size("letterbox source", src_w, src_h, err);
    if (rc == 0)
        rc = check_size("letterbox destination", dst_w, dst_h, err);
    if (rc < 0)
        return rc;
    /* Python: scale = min(dst_w / src_w, dst_h / src_h); int(src * scale).
     * min() keeps the first argument unless the second is smaller. */
    double sx = (double)dst_w / (double)src_w, sy = (double)dst_h / (double)src_h;
    double scale = sy < sx ? sy : sx;
    imgproc_letterbox g;
    g.scale = scale;
    g.new_w = (int)((double)src_w * scale);
    g.new_h = (int)((double)src_h * scale);
    g.x_off = (dst_w - g.new_w) / 2; /* both non-negative: // is / */
    g.y_off = (dst_h - g.new_h) / 2;
    *out = g;
    return 0;
}

extern "C" int imgproc_cv_resize_cubic_u8(const uint8_t *src, int src_w, int src_h,
                                          size_t src_stride, int channels, uint8_t *dst, int dst_w,
                                          int dst_h, size_t dst_stride, hdm_err *err)
{
    size_t ss, ds;
    int rc = check_channels("resize", channels, err);
    if (rc == 0)
        rc =
            check_image("resize source", src, src_w, src_h, src_stride, (size_t)channels, &ss, err);
    if (rc == 0)
        rc = check_image("resize destination", dst, dst_w, dst_h, dst_stride, (size_t)channels, &ds,
                         err);
    if (rc < 0)
        return rc;
    return guarded(err, "cubic resize", [&] {
        cv::Mat in = over(src, src_w, src_h, CV_8UC(channels), ss);
        cv::Mat out = over(dst, dst_w, dst_h, CV_8UC(channels), ds);
        cv::resize(in, out, cv::Size(dst_w, dst_h), 0, 0, cv::INTER_CUBIC);
        return 0;
    });
}

extern "C" int imgproc_cv_resize_cubic_f32(const float *src, int src_w, int src_h,
                                           size_t src_stride, float *dst, int dst_w, int dst_h,
                                           size_t dst_stride, hdm_err *err)
{
    size_t ss, ds;
    int rc = check_image("resize source", src, src_w, src_h, src_stride, sizeof(float), &ss, err);
    if (rc == 0)
        rc = check_image("resize destination", dst, dst_w, dst_h, dst_stride, sizeof(float), &ds,
                         err);
    if (rc < 0)
        return rc;
    return guarded(err, "cubic resize", [&] {
        cv::Mat in = over(src, src_w, src_h, CV_32FC1, ss);
        cv::Mat out = over(dst, dst_w, dst_h, CV_32FC1, ds);
        cv::resize(in, out, cv::Size(dst_w, dst_h), 0, 0, cv::INTER_CUBIC);
        return 0;
    });
}

extern "C" int imgproc_perspective_transform(const float src[8], const float dst[8], double m[9],
                                             hdm_err *err)
{
    if (src == nullptr || dst == nullptr || m == nullptr)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "perspective transform: missing points");
    return guarded(err, "perspective transform", [&] {
        cv::Point2f s[4], d[4];
        for (int i = 0; i < 4; i++) {
            s[i] = cv::Point2f(src[2 * i], src[2 * i + 1]);
            d[i] = cv::Point2f(dst[2 * i], dst[2 * i + 1]);
        }
        cv::Mat t = cv::getPerspectiveTransform(s, d);
        for (int i = 0; i < 9; i++)
            m[i] = t.at<double>(i / 3, i % 3);
        return 0;
    });
}

extern "C" int imgproc_warp_perspective_u8(const uint8_t *src, int src_w, int src_h,
                                           size_t src_stride, int channels, const double m[9],
                                           uint8_t *dst, int dst_w, int dst_h, hdm_err *err)
{
    size_t ss, ds;
    int rc = check_channels("perspective warp", channels, err);
    if (rc == 0)
        rc = check_image("perspective warp source", src, src_w, src_h, src_stride, (size_t)channels,
                         &ss, err);
    if (rc == 0)
        rc = check_image("perspective warp destination", dst, dst_w, dst_h, 0, (size_t)channels,
                         &ds, err);
    if (rc < 0)
        return rc;
    if (m == nullptr)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "perspective warp: no matrix");
    return guarded(err, "perspective warp", [&] {
        cv::Mat in = over(src, src_w, src_h, CV_8UC(channels), ss);
        cv::Mat out = over(dst, dst_w, dst_h, CV_8UC(channels), ds);
        cv::Mat t(3, 3, CV_64F);
        for (int i = 0; i < 9; i++)
            t.at<double>(i / 3, i % 3) = m[i];
        cv::warpPerspective(in, out, t, cv::Size(dst_w, dst_h), cv::INTER_LINEAR,
                            cv::BORDER_CONSTANT, cv::Scalar::all(0));
        return 0;
    });
}

extern "C" void imgproc_contours_free(imgproc_contours *c)
{
    if (c == nullptr)
        return;
    std::free(c->start);
    std::free(c->xy);
    c->start = nullptr;
    c->xy = nullptr;
    c->count = 0;
}

extern "C" int imgproc_find_contours(const uint8_t *mask, int w, int h, size_t stride,
                                     imgproc_contours *out, hdm_err *err)
{
    size_t ms;
    if (out == nullptr)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "find contours: no output");
    std::memset(out, 0, sizeof(*out));
    int rc = check_image("find contours", mask, w, h, stride, 1, &ms, err);
    if (rc < 0)
        return rc;
    return guarded(err, "find contours", [&] {
        /* findContours copies the image into a bordered buffer of its own
         * before following borders, so the caller's mask stays intact. */
        cv::Mat in = over(mask, w, h, CV_8UC1, ms);
        std::vector<std::vector<cv::Point>> contours;
        cv::findContours(in, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
        size_t total = 0;
        for (const auto &c : contours)
            total += c.size();
        size_t *start = static_cast<size_t *>(std::malloc((contours.size() + 1) * sizeof(size_t)));
        int32_t *xy =
            static_cast<int32_t *>(std::malloc((total ? total : 1) * 2 * sizeof(int32_t)));
        if (start == nullptr || xy == nullptr) {
            std::free(start);
            std::free(xy);
            return hdm_err_set(err, HDM_E_NOMEM, "find contours: out of memory for %zu points",
                               total);
        }
        size_t k = 0;
        for (size_t i = 0; i < contours.size(); i++) {
            start[i] = k;
            for (const cv::Point &p : contours[i]) {
                xy[2 * k] = p.x;
                xy[2 * k + 1] = p.y;
                k++;
            }
        }
        start[contours.size()] = k;
        out->count = contours.size();
        out->start = start;
        out->xy = xy;
        return 0;
    });
}

extern "C" int imgproc_find_contours_framed(uint8_t *framed, int w, int h, imgproc_contours *out,
                                            hdm_err *err)
{
    if (out == nullptr)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "find contours: no output");
    std::memset(out, 0, sizeof(*out));
    int rc = check_size("find contours", w, h, err);
    if (rc == 0 && (w > IMGPROC_MAX_SIDE - 2 || h > IMGPROC_MAX_SIDE - 2))
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "find contours: size %dx%d too large to frame",
                         w, h);
    if (rc == 0 && framed == nullptr)
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "find contours: no pixels");
    if (rc < 0)
        return rc;
    const int fw = w + 2, fh = h + 2;
    /* The frame cv::findContours would add (copyMakeBorder, constant 0). */
    std::memset(framed, 0, (size_t)fw);
    std::memset(framed + (size_t)(fh - 1) * (size_t)fw, 0, (size_t)fw);
    for (int y = 1; y < fh - 1; y++)
        framed[(size_t)y * (size_t)fw] = framed[(size_t)y * (size_t)fw + (size_t)fw - 1] = 0;
    return guarded(err, "find contours", [&] {
        /* What cv::findContours does after its copy (OpenCV 4.6
         * contours.cpp): the C implementation on the bordered image with
         * the offset (-1, -1), then the contour tree flattened in
         * cvTreeToNodeSeq order.  cvFindContours also zeroes the frame,
         * which is zero already. */
        cv::Mat image(fh, fw, CV_8UC1, framed);
        CvMat cimage = cvMat(image);
        cv::MemStorage storage(cvCreateMemStorage());
        CvSeq *first = nullptr;
        cvFindContours(&cimage, storage, &first, sizeof(CvContour), CV_RETR_LIST,
                       CV_CHAIN_APPROX_SIMPLE, cvPoint(-1, -1));
        if (first == nullptr)
            return 0;
        cv::Seq<CvSeq *> all(cvTreeToNodeSeq(first, sizeof(CvSeq), storage));
        size_t count = all.size(), total = 0;
        cv::SeqIterator<CvSeq *> it = all.begin();
        for (size_t i = 0; i < count; i++, ++it)
            total += (size_t)(*it)->total;
        size_t *start = static_cast<size_t *>(std::malloc((count + 1) * sizeof(size_t)));
        int32_t *xy =
            static_cast<int32_t *>(std::malloc((total ? total : 1) * 2 * sizeof(int32_t)));
        if (start == nullptr || xy == nullptr) {
            std::free(start);
            std::free(xy);
            return hdm_err_set(err, HDM_E_NOMEM, "find contours: out of memory for %zu points",
                               total);
        }
        size_t k = 0;
        it = all.begin();
        for (size_t i = 0; i < count; i++, ++it) {
            start[i] = k;
            cvCvtSeqToArray(*it, xy + 2 * k); /* CvPoint: two ints, x then y */
            k += (size_t)(*it)->total;
        }
        start[count] = k;
        out->count = count;
        out->start = start;
        out->xy = xy;
        return 0;
    });
}

extern "C" int imgproc_min_area_rect_i32(const int32_t *xy, size_t n, imgproc_rotated_rect *out,
                                         hdm_err *err)
{
    if (out == nullptr || (xy == nullptr && n > 0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "minimum area rectangle: missing points");
    if (n > (size_t)INT32_MAX / 2)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "minimum area rectangle: %zu points", n);
    return guarded(err, "minimum area rectangle", [&] {
        cv::RotatedRect r;
        if (n > 0) {
            cv::Mat pts((int)n, 1, CV_32SC2, const_cast<int32_t *>(xy));
            r = cv::minAreaRect(pts);
        }
        *out = imgproc_rotated_rect{r.center.x, r.center.y, r.size.width, r.size.height, r.angle};
        return 0;
    });
}

extern "C" int imgproc_box_points(const imgproc_rotated_rect *r, float xy[8], hdm_err *err)
{
    if (r == nullptr || xy == nullptr)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "box points: missing rectangle");
    return guarded(err, "box points", [&] {
        cv::RotatedRect rr(cv::Point2f(r->cx, r->cy), cv::Size2f(r->w, r->h), r->angle);
        cv::Mat pts;
        cv::boxPoints(rr, pts);
        for (int i = 0; i < 4; i++) {
            xy[2 * i] = pts.at<float>(i, 0);
            xy[2 * i + 1] = pts.at<float>(i, 1);
        }
        return 0;
    });
}

extern "C" int imgproc_fill_poly_u8(uint8_t *img, int w, int h, size_t stride, const int32_t *xy,
                                    size_t n, uint8_t value, hdm_err *err)
{
    size_t is;
    int rc = check_image("fill polygon", img, w, h, stride, 1, &is, err);
    if (rc < 0)
        return rc;
    if (n == 0 || xy == nullptr || n > (size_t)INT32_MAX / 2)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "fill polygon: %zu points", n);
    return guarded(err, "fill polygon", [&] {
        cv::Mat canvas = over(img, w, h, CV_8UC1, is);
        const cv::Point *pts = reinterpret_cast<const cv::Point *>(xy);
        int npts = (int)n;
        cv::fillPoly(canvas, &pts, &npts, 1, cv::Scalar(value));
        return 0;
    });
}

extern "C" int imgproc_mean_masked_f32(const float *src, int w, int h, size_t src_stride,
                                       const uint8_t *mask, size_t mask_stride, double *mean,
                                       hdm_err *err)
{
    size_t ss, ms;
    int rc = check_image("masked mean", src, w, h, src_stride, sizeof(float), &ss, err);
    if (rc == 0)
        rc = check_image("masked mean mask", mask, w, h, mask_stride, 1, &ms, err);
    if (rc < 0)
        return rc;
    if (mean == nullptr)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "masked mean: no output");
    return guarded(err, "masked mean", [&] {
        cv::Mat in = over(src, w, h, CV_32FC1, ss);
        cv::Mat m = over(mask, w, h, CV_8UC1, ms);
        *mean = cv::mean(in, m)[0];
        return 0;
    });
}
