/*
 * image_pixels.c - the pixel buffers of decoded images, with one kept
 * between images when a service asks for it (image_pixels_keep).
 *
 * DESIGN: a service that decodes one large image at a time frees one and
 * allocates the next of the same size again and again.  With glibc's heap
 * the freed block is often split by small allocations made in between (the
 * previous request's reply, the decoder's own tables) before the next
 * image asks for it, and the heap then grows by an image for the new
 * pixels while the old block's pages stay resident: the process's peak
 * memory creeps up by an image now and then.  Keeping the freed buffer for
 * the next decode avoids that without giving its pages back to the kernel
 * (whose zeroing of fresh pages would cost ~0.65 ms per MB each time).
 * One buffer is kept, at most keep_max bytes, handed to any decode that
 * fits in it; the rest is plain malloc/free, so images built elsewhere may
 * be freed here.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include "image/image_internal.h"

static pthread_mutex_t pixels_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *kept;
static size_t kept_size; /* malloc_usable_size(kept) */
static size_t keep_max;

void image_pixels_keep(size_t max_bytes)
{
    pthread_mutex_lock(&pixels_lock);
    keep_max = max_bytes;
    uint8_t *drop = NULL;
    if (kept != NULL && kept_size > keep_max) {
        drop = kept;
        kept = NULL;
        kept_size = 0;
    }
    pthread_mutex_unlock(&pixels_lock);
    free(drop);
}

uint8_t *image_pixels_alloc(size_t bytes)
{
    uint8_t *p = NULL, *drop = NULL;
    pthread_mutex_lock(&pixels_lock);
    if (kept != NULL) {
        if (kept_size >= bytes)
            p = kept;
        else
            drop = kept; /* too small for this one: it goes */
        kept = NULL;
        kept_size = 0;
    }
    pthread_mutex_unlock(&pixels_lock);
    free(drop);
    return p != NULL ? p : malloc(bytes > 0 ? bytes : 1);
}

void image_pixels_free(uint8_t *p)
{
    if (p == NULL)
        return;
    size_t size = malloc_usable_size(p);
    pthread_mutex_lock(&pixels_lock);
    if (kept == NULL && size <= keep_max) {
        kept = p;
        kept_size = size;
        p = NULL;
    }
    pthread_mutex_unlock(&pixels_lock);
    free(p);
}
