/* timeutil.h - clocks. */
#ifndef HDM_COMMON_TIMEUTIL_H
#define HDM_COMMON_TIMEUTIL_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds / seconds (fractional). */
int64_t mono_ms(void);
double mono_s(void);
/* Wall clock (unix seconds, fractional). */
double wall_s(void);
/* Sleeps ms milliseconds (restarting on EINTR). */
void sleep_ms(int64_t ms);

#endif
