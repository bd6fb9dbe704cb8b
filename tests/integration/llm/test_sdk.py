"""The official `ollama` and `openai` npm packages against hailo-llm: list,
show, ps, chat and generate (streamed and not), multi-turn conversations,
stop sequences, token counts from the model, JSON mode, tools, errors and
an aborted stream."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import MODEL, SLOW

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdk")


def node_run(script, *args):
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are required for this test (Debian: apt-get install nodejs npm)")
    # Installed once from the committed lock file; offline afterwards.
    if not all(os.path.isdir(os.path.join(HERE, "node_modules", p)) for p in ("ollama", "openai")):
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, timeout=300,
                           capture_output=True, text=True)
        assert r.returncode == 0, f"npm ci failed:\n{r.stdout}\n{r.stderr}"
    r = subprocess.run([node, script, *args], cwd=HERE, timeout=180, capture_output=True,
                       text=True)
    assert r.returncode == 0, f"{script} failed:\n{r.stdout}\n{r.stderr}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_ollama_js(llm, stack):
    out = node_run("ollama-check.mjs", llm.url, MODEL, SLOW)
    assert out["ok"] is True and f"{MODEL}:latest" in out["models"]
    assert out["tokens"] > 0
    # The aborted stream of the slow model stopped on the manager too.
    from conftest import wait_until
    wait_until(lambda: stack.manager.request({"action": "status"})["scheduler"]["running"] == 0,
               15, "the aborted generation to be cancelled")
    wait_until(lambda: "client went away" in llm.log(), 15, "hailo-llm to log the hang-up")


def test_openai_js(llm):
    out = node_run("openai-check.mjs", llm.url + "/v1", MODEL)
    assert out["ok"] is True and MODEL in out["models"]
    assert out["usage"]["total_tokens"] > 0
