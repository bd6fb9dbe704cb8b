"""The official `openai` npm package against hailo-vision: list models, a
chat completion, a streamed chat completion, and the SDK's error classes."""

import json
import os
import subprocess

from conftest import MODEL, data_uri, hdmtest, png_bytes

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openai-sdk")


def test_openai_node_sdk(vision):
    node = hdmtest.npm_ci(HERE)
    image = data_uri(png_bytes(48, 32, (240, 180, 20)))
    r = subprocess.run([node, "check.mjs", vision.url + "/v1", MODEL, image], cwd=HERE,
                       timeout=120, capture_output=True, text=True)
    assert r.returncode == 0, f"check.mjs failed:\n{r.stdout}\n{r.stderr}"
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["ok"] is True and out["models"] == [MODEL]
    assert out["usage"]["total_tokens"] > 0
