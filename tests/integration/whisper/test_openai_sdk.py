"""The official `openai` npm package against hailo-whisper: every response
format, a translation, a streamed transcription and the SDK's error
classes (openai-sdk/check.mjs), on the simulated stack."""

import json
import os
import subprocess

from conftest import MODEL, audio_dir, hdmtest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openai-sdk")


def test_openai_node_sdk(whisper):
    node = hdmtest.npm_ci(HERE)
    r = subprocess.run([node, "check.mjs", whisper.url + "/v1", MODEL, audio_dir()], cwd=HERE,
                       timeout=300, capture_output=True, text=True)
    assert r.returncode == 0, f"check.mjs failed:\n{r.stdout}\n{r.stderr}"
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["ok"] is True and out["models"] == [MODEL]
    assert out["segments"] == 3 and out["deltas"] == 3 and out["text"]
