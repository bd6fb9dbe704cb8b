/*
 * hooks.h - what every backend asks of the infer_hooks the worker gives it:
 * should this inference stop now (client gone, cancel, deadline), and how
 * long may the next blocking device call wait.  A leaf: no backend state.
 */
#ifndef HDM_BACKENDS_HOOKS_H
#define HDM_BACKENDS_HOOKS_H

#include "backend.h"

/* -HDM_E_CANCELLED when hooks->cancelled is set, -HDM_E_DEADLINE_EXCEEDED
 * once hooks->deadline_ms has passed (err says which), else 0.  hooks may be
 * NULL (never stop). */
int hooks_check(const infer_hooks *hooks, hdm_err *err);

/* Milliseconds left before hooks->deadline_ms, capped to [1, cap]; cap when
 * there is no deadline (or no hooks). */
int hooks_time_left_ms(const infer_hooks *hooks, int cap);

#endif
