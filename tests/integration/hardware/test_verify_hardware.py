"""scripts/verify-hardware.sh and scripts/check-hailort.sh, rehearsed on a
machine without a Hailo: the hardware script runs its whole flow on the
simulated Hailo-10H (--backend sim) over model files named like Hailo's."""
import os
import pathlib
import subprocess

SRC = pathlib.Path(os.environ["HDM_SOURCE_DIR"])
BUILD = pathlib.Path(os.environ["HDM_BUILD_DIR"])
VERIFY = SRC / "scripts" / "verify-hardware.sh"
CHECK = SRC / "scripts" / "check-hailort.sh"

MODEL_FILES = [
    "Qwen2-VL-2B-Instruct.hef",
    "Qwen2.5-1.5B-Instruct.hef",
    "Whisper-Base.hef",
    "clip_vit_b_32_image_encoder.hef",
    "clip_vit_b_32_text_encoder.hef",
    "scdepthv3.hef",
    "yolov8s_pose.hef",
    "paddle_ocr_det.hef",
    "paddle_ocr_rec_en.hef",
    "yolov8m.hef",  # a detector this stack does not serve: ignored
]


def run_verify(tmp_path, models, *extra):
    sim = tmp_path / "sim.yaml"
    sim.write_text("latency_scale: 0\n")
    env = dict(os.environ, TMPDIR=str(tmp_path))
    return subprocess.run(
        ["bash", str(VERIFY), "--build", str(BUILD), "--backend", "sim",
         "--sim-config", str(sim), "--models", str(models),
         "--report", str(tmp_path / "report.txt"), *extra],
        capture_output=True, text=True, timeout=240, env=env)


def table(stdout):
    """Rows of the final table: {check: (result, detail)}."""
    rows, in_table = {}, False
    for line in stdout.splitlines():
        if line.startswith("------"):
            in_table = True
            continue
        if in_table and line.strip() == "":
            break
        if in_table:
            result, rest = line[:6].strip(), line[7:]
            rows[rest[:40].strip()] = (result, rest[40:].strip())
    return rows


def test_every_model_type_passes_on_the_simulator(tmp_path):
    models = tmp_path / "models" / "hailo10h"
    models.mkdir(parents=True)
    for name in MODEL_FILES:
        (models / name).write_bytes(os.urandom(512))
    proc = run_verify(tmp_path, tmp_path / "models")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = table(proc.stdout)
    checks = " ".join(rows)
    for label in ["vlm_chat Qwen2-VL", "llm Qwen2.5-1.5B-Instruct.hef", "whisper Whisper-Base", "depth scdepthv3.hef [256,320,3]",
                  "pose yolov8s_pose.hef [640,640,3]", "clip image", "clip text",
                  "ocr detection paddle_ocr_det.hef"]:
        assert label in checks, (label, checks)
    assert all(result in ("PASS", "SKIP") for result, _ in rows.values()), rows
    assert "yolov8m" not in checks
    # Issue 22's checks ran (on the simulator; what needs the chip says so).
    for label in ["vlm special tokens", "vlm max_tokens=4", "vlm stop string",
                  "vlm short deadline", "vlm request after a deadline",
                  "llm special tokens", "llm max_tokens=4", "llm stop string",
                  "llm short deadline", "llm request after a deadline",
                  "ocr recognition 3 crops", "ocr recognition 11 crops",
                  "clip timeout_ms=1 x20", "clip after timeouts", "depth after clip timeouts",
                  "no runtime reset after timeouts", "clip latency with status polling",
                  "clip during a 200-token vlm answer", "whisper translate, no language",
                  "memory checks"]:
        assert label in checks, (label, checks)
    assert rows["second process loads a GenAI model"][0] == "SKIP"
    assert rows["ocr recognition 11 crops"][1].startswith("11 outputs")
    assert "tokens/s" in rows["clip during a 200-token vlm answer"][1]
    assert "PASS: every check passed." in proc.stdout
    # One report file to paste into an issue: the table and the manager's log.
    report = (tmp_path / "report.txt").read_text()
    assert "vlm special tokens" in report and "## manager.log" in report
    # Timings are reported for each model.
    assert "infer" in rows[next(k for k in rows if k.startswith("whisper"))][1]
    # All passed: the temporary directory is removed.
    assert not list(tmp_path.glob("verify-hardware.*"))


def test_no_models_fails_and_says_where_to_look(tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    proc = run_verify(tmp_path, empty)
    assert proc.returncode == 1
    assert "no .hef files found" in proc.stdout
    assert "Where to look" in proc.stdout and "manager.log" in proc.stdout
    # Kept for the owner to read.
    kept = list(tmp_path.glob("verify-hardware.*"))
    assert kept and (kept[0] / "manager.log").exists()


def test_broken_model_file_fails_its_row(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "scdepthv3.hef").write_bytes(b"x")
    (models / "scdepthv3.hef.sim.json").write_text('{"no_such_key": 1}')
    proc = run_verify(tmp_path, models)
    assert proc.returncode == 1
    result, detail = table(proc.stdout)[next(k for k in table(proc.stdout) if "scdepthv3" in k)]
    assert result == "FAIL" and "load:" in detail


def test_arguments():
    assert subprocess.run(["bash", str(VERIFY), "--help"], capture_output=True).returncode == 0
    bad = subprocess.run(["bash", str(VERIFY), "--frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown argument" in bad.stderr
    bad = subprocess.run(["bash", str(VERIFY), "--backend", "gpu"], capture_output=True)
    assert bad.returncode == 2


def test_check_hailort_usage(tmp_path):
    skip = subprocess.run(["sh", str(CHECK), "--skip-if-unset", ""], capture_output=True, text=True)
    assert skip.returncode == 77 and "SKIPPED" in skip.stdout
    usage = subprocess.run(["sh", str(CHECK), ""], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage" in usage.stderr
    missing = subprocess.run(["sh", str(CHECK), str(tmp_path)], capture_output=True, text=True)
    assert missing.returncode == 1 and "hailo/hailort.h not found" in missing.stderr


def test_check_hailort_refuses_other_majors(tmp_path):
    """Any HailoRT 5.x is accepted; headers of another major say what is needed."""
    (tmp_path / "hailo").mkdir()
    (tmp_path / "hailo" / "hailort.h").write_text(
        "#define HAILORT_MAJOR_VERSION 4\n#define HAILORT_MINOR_VERSION 23\n"
        "#define HAILORT_REVISION_VERSION 0\n")
    proc = subprocess.run(["sh", str(CHECK), str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "HailoRT version: 4.23.0" in proc.stdout
    assert "the backend needs HailoRT 5.x" in proc.stderr
