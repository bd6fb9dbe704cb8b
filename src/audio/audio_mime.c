/*
 * audio_mime.c - the file name extension the original gave an upload, from
 * the part's Content-Type: Python's mimetypes.guess_extension() (Debian's
 * tables) for the audio types, then the original's own fallbacks, which
 * test substrings, so "audio/mpeg; codecs=mp3" still gives ".mp3".
 */
#include <string.h>
#include <strings.h>

#include "audio.h"

const char *audio_ext_for_mime(const char *mime)
{
    /* guess_extension(): the whole string, case-insensitive. */
    static const struct {
        const char *type, *ext;
    } guessed[] = {
        {"audio/mpeg", ".mp3"},   {"audio/x-wav", ".wav"}, {"audio/ogg", ".oga"},
        {"audio/opus", ".opus"},  {"audio/flac", ".flac"}, {"video/webm", ".webm"},
        {"audio/mp4", ".m4a"},    {"video/mp4", ".mp4"},   {"audio/aac", ".aac"},
        {"audio/x-aiff", ".aif"},
    };
    /* The original's fallbacks when that gave nothing: substrings, in order. */
    static const struct {
        const char *needle, *ext;
    } fallbacks[] = {
        {"audio/mpeg", ".mp3"},  {"audio/mp3", ".mp3"}, {"audio/wav", ".wav"},
        {"audio/wave", ".wav"},  {"audio/ogg", ".ogg"}, {"audio/flac", ".flac"},
        {"audio/webm", ".webm"},
    };

    if (!mime)
        return NULL;
    for (size_t i = 0; i < sizeof(guessed) / sizeof(guessed[0]); i++)
        if (strcasecmp(mime, guessed[i].type) == 0)
            return guessed[i].ext;
    for (size_t i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]); i++)
        if (strstr(mime, fallbacks[i].needle))
            return fallbacks[i].ext;
    return NULL;
}
