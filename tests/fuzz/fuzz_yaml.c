/*
 * fuzz_yaml.c - YAML config files: the first byte picks the key table
 * (hailo-clip, hailo-vision, the sim backend's config, or the whole
 * manager config through config_load with --config FILE), the rest is the
 * file.  Each program's cross-field checks run after a successful load, and
 * everything is freed (leaks of half-loaded configs show up here).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend-sim.h"
#include "clip/clip.h"
#include "common/yamlconf.h"
#include "manager/config.h"
#include "vision/vision.h"

static void load_manager(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/hdm-fuzz-yaml-%d.yaml", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(data, 1, size, f);
    fclose(f);
    char *argv[] = {"hailo-device-manager", "--config", path, NULL};
    manager_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    hdm_err err;
    hdm_err_clear(&err);
    if (config_load(&cfg, 3, argv, &err) < 0 && err.msg[0] == '\0')
        abort();
    config_free(&cfg);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    hdm_err err;
    hdm_err_clear(&err);
    switch (data[0] & 3) {
    case 0: {
        clip_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        if (clip_config_defaults(&cfg) == 0 &&
            conf_load_string(text, len, "hailo-clip.yaml", clip_config_keys, &cfg, NULL, NULL,
                             &err) == 0)
            clip_config_check(&cfg, &err);
        clip_config_free(&cfg);
        break;
    }
    case 1: {
        vision_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        if (vision_config_defaults(&cfg) == 0 &&
            conf_load_string(text, len, "hailo-vision.yaml", vision_config_keys, &cfg, NULL,
                             NULL, &err) == 0)
            vision_config_check(&cfg, &err);
        vision_config_free(&cfg);
        break;
    }
    case 2: {
        sim_config cfg;
        sim_config_defaults(&cfg);
        sim_config_load_string(text, len, "sim.yaml", &cfg, &err);
        break;
    }
    default: load_manager((const uint8_t *)text, len); break;
    }
    return 0;
}
