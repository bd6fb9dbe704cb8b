/*
 * table.c - aligned text tables for hailo-devctl's readable output.
 */
#include <stdlib.h>
#include <string.h>

#include "devctl/devctl.h"

struct table {
    int ncols;
    char **cells; /* rows * ncols, row 0 = headers */
    size_t rows, cap;
};

static void add_row(table *t, const char *const *cells)
{
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        char **grown = realloc(t->cells, cap * (size_t)t->ncols * sizeof(*grown));
        if (grown == NULL)
            return; /* a row lost to memory exhaustion only shortens the printout */
        t->cells = grown;
        t->cap = cap;
    }
    for (int c = 0; c < t->ncols; c++)
        t->cells[t->rows * (size_t)t->ncols + (size_t)c] = strdup(cells[c] ? cells[c] : "");
    t->rows++;
}

table *table_new(int ncols, const char *const *headers)
{
    table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->ncols = ncols;
    add_row(t, headers);
    return t;
}

void table_row(table *t, const char *const *cells)
{
    if (t != NULL)
        add_row(t, cells);
}

void table_print(table *t, FILE *out)
{
    if (t == NULL)
        return;
    size_t width[16] = {0};
    int ncols = t->ncols > 16 ? 16 : t->ncols;
    for (size_t r = 0; r < t->rows; r++)
        for (int c = 0; c < ncols; c++) {
            const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];
            size_t len = s ? strlen(s) : 0;
            if (len > width[c])
                width[c] = len;
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (int c = 0; c < ncols; c++) {
            const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];
            if (c == ncols - 1)
                fprintf(out, "%s\n", s ? s : "");
            else
                fprintf(out, "%-*s  ", (int)width[c], s ? s : "");
        }
    }
}

void table_free(table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->rows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
