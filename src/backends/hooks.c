/*
 * hooks.c - the stop conditions of one inference (see hooks.h).
 */
#include "hooks.h"

#include "common/timeutil.h"

int hooks_check(const infer_hooks *hooks, hdm_err *err)
{
    if (!hooks)
        return 0;
    if (hooks->cancelled && atomic_load(hooks->cancelled))
        return hdm_err_set(err, HDM_E_CANCELLED, "inference cancelled");
    if (hooks->deadline_ms > 0 && mono_ms() >= hooks->deadline_ms)
        return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED,
                           "deadline exceeded while the model was running");
    return 0;
}

int hooks_time_left_ms(const infer_hooks *hooks, int cap)
{
    if (!hooks || hooks->deadline_ms <= 0)
        return cap;
    int64_t left = hooks->deadline_ms - mono_ms();
    if (left < 1)
        return 1;
    return left > cap ? cap : (int)left;
}
