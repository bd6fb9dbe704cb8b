"""The official `openai` npm package against hailo-vision: list models, a
chat completion, a streamed chat completion, and the SDK's error classes."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import MODEL, data_uri, png_bytes

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openai-sdk")


def test_openai_node_sdk(vision):
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are required for this test (Debian: apt-get install nodejs npm)")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "openai")):
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, timeout=300,
                           capture_output=True, text=True)
        assert r.returncode == 0, f"npm ci failed:\n{r.stdout}\n{r.stderr}"
    image = data_uri(png_bytes(48, 32, (240, 180, 20)))
    r = subprocess.run([node, "check.mjs", vision.url + "/v1", MODEL, image], cwd=HERE,
                       timeout=120, capture_output=True, text=True)
    assert r.returncode == 0, f"check.mjs failed:\n{r.stdout}\n{r.stderr}"
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["ok"] is True and out["models"] == [MODEL]
    assert out["usage"]["total_tokens"] > 0
