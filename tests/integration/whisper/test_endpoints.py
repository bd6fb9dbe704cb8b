"""hailo-whisper's endpoints with the original's own test expectations
(ORIGINAL-SERVICES.md §5.5, tests/test_hailo_whisper_service.py) and the
bytes its aiohttp service sent (json.dumps spacing, content types, key
order), on the simulated stack."""

import io
import json
import re
import time

import requests

from conftest import MODEL, assert_error, audio

JSON = "application/json; charset=utf-8"


def test_health(whisper):
    r = whisper.get("/health")
    assert r.status_code == 200 and r.headers["Content-Type"] == JSON
    body = r.json()
    # The original's fields first, in its order, then ours.
    assert list(body)[:5] == ["status", "model", "model_loaded", "uptime_seconds",
                              "transcriptions_processed"]
    assert body["status"] == "ok" and body["model"] == MODEL and body["model_loaded"] is True
    assert isinstance(body["uptime_seconds"], float) and body["uptime_seconds"] >= 0
    assert isinstance(body["transcriptions_processed"], int)
    assert body["backend"] == "sim" and body["manager_reachable"] is True
    # json.dumps spacing, as aiohttp's json_response printed it.
    assert r.text.startswith('{"status": "ok", "model": "Whisper-Base", "model_loaded": true, ')


def test_health_counts_transcriptions(whisper):
    before = whisper.get("/health").json()["transcriptions_processed"]
    assert whisper.transcribe(audio("tone.wav")).status_code == 200
    assert whisper.get("/health").json()["transcriptions_processed"] == before + 1


def test_ready(whisper):
    r = whisper.get("/health/ready")
    assert r.status_code == 200 and r.text == '{"ready": true}'
    assert r.headers["Content-Type"] == JSON


def test_models(whisper):
    r = whisper.get("/v1/models")
    assert r.status_code == 200 and r.headers["Content-Type"] == JSON
    body = r.json()
    assert list(body) == ["data", "object"] and body["object"] == "list"
    (m,) = body["data"]
    assert list(m) == ["id", "object", "created", "owned_by"]
    assert m["id"] == MODEL and m["object"] == "model" and m["owned_by"] == "hailo"
    # The service's start in UTC seconds (the original's was off by the TZ offset).
    assert isinstance(m["created"], int) and abs(m["created"] - time.time()) < 3600


def test_wav_json(whisper):
    r = whisper.transcribe(audio("speech.wav"))
    assert r.status_code == 200 and r.headers["Content-Type"] == JSON
    assert list(r.json()) == ["text"]
    assert isinstance(r.json()["text"], str) and r.json()["text"]
    assert r.text.startswith('{"text": "')


def test_mp3_verbose_json(whisper):
    r = whisper.transcribe(audio("speech.mp3"), {"response_format": "verbose_json"},
                           filename="speech.mp3")
    assert r.status_code == 200 and r.headers["Content-Type"] == JSON
    body = r.json()
    assert list(body) == ["task", "language", "duration", "text", "segments"]
    assert body["task"] == "transcribe" and body["language"] == "auto"
    assert isinstance(body["duration"], float) and 5 < body["duration"] < 8
    assert isinstance(body["segments"], list) and body["segments"]
    for i, s in enumerate(body["segments"]):
        assert list(s) == ["id", "start", "end", "text", "tokens", "temperature", "avg_logprob",
                           "compression_ratio", "no_speech_prob"]
        assert s["id"] == i and s["tokens"] == [] and s["temperature"] == 0.0
        assert s["avg_logprob"] is None and s["compression_ratio"] is None
        assert s["no_speech_prob"] is None
        assert isinstance(s["start"], float) and isinstance(s["end"], float)
        assert 0 <= s["start"] <= s["end"] <= body["duration"]
    assert body["text"] == "".join(s["text"] for s in body["segments"]).strip()
    # Floats print as Python does: 0.0, not 0.
    assert '"temperature": 0.0' in r.text


def test_text_format(whisper):
    r = whisper.transcribe(audio("speech.wav"), {"response_format": "text"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    plain = whisper.transcribe(audio("speech.wav")).json()["text"]
    assert r.text == plain


def ts(seconds, sep):
    """The original's timestamp: every field truncated."""
    h, m, s = int(seconds // 3600), int((seconds % 3600) // 60), int(seconds % 60)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{int((seconds % 1) * 1000):03d}"


def test_srt_and_vtt_follow_the_segments(whisper):
    segs = whisper.transcribe(audio("phrases.wav"),
                              {"response_format": "verbose_json"}).json()["segments"]
    assert len(segs) >= 3
    r = whisper.transcribe(audio("phrases.wav"), {"response_format": "srt"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "-->" in r.text
    want = "\n".join(f"{i}\n{ts(s['start'], ',')} --> {ts(s['end'], ',')}\n{s['text'].strip()}\n"
                     for i, s in enumerate(segs, 1))
    assert r.text == want
    r = whisper.transcribe(audio("phrases.wav"), {"response_format": "vtt"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/vtt; charset=utf-8"
    want = "\n".join(["WEBVTT\n"] + [f"{ts(s['start'], '.')} --> {ts(s['end'], '.')}\n"
                                     f"{s['text'].strip()}\n" for s in segs])
    assert r.text == want


def test_srt_of_silence_is_empty(whisper):
    r = whisper.transcribe(audio("silence.wav"), {"response_format": "srt"})
    assert r.status_code == 200 and r.text == ""
    r = whisper.transcribe(audio("silence.wav"), {"response_format": "vtt"})
    assert r.status_code == 200 and r.text == "WEBVTT\n"
    r = whisper.transcribe(audio("silence.wav"), {"response_format": "verbose_json"})
    assert r.json()["segments"] == [] and r.json()["text"] == ""
    assert r.json()["duration"] == 3.0


def test_language_prompt_temperature(whisper):
    """The original's optional-field tests: accepted, 200 with text."""
    for fields in ({"language": "en"}, {"prompt": "This is a test prompt for style guidance."},
                   {"temperature": "0.5"}, {"temperature": "not a number"}):
        r = whisper.transcribe(audio("tone.wav"), fields)
        assert r.status_code == 200, (fields, r.text)
        assert isinstance(r.json()["text"], str)


def test_language_is_passed_and_reported(whisper):
    r = whisper.transcribe(audio("phrases.wav"),
                           {"language": "de", "response_format": "verbose_json"})
    body = r.json()
    assert body["language"] == "de"
    # The sim's model marks text in another language than English.
    assert all(s["text"].startswith(" [de]") for s in body["segments"])
    # "auto", or empty (the original: None), is detection.
    for lang in ("auto", ""):
        body = whisper.transcribe(audio("phrases.wav"),
                                  {"language": lang, "response_format": "verbose_json"}).json()
        assert body["language"] == "auto" and "[" not in body["text"]


def test_sequential_requests(whisper):
    texts = set()
    for _ in range(3):
        r = whisper.transcribe(audio("speech.wav"))
        assert r.status_code == 200
        texts.add(r.json()["text"])
    assert len(texts) == 1  # the same audio gives the same words


def test_upload_from_bytes(whisper):
    r = requests.post(whisper.url + "/v1/audio/transcriptions",
                      files={"file": ("audio.wav", io.BytesIO(audio("speech.wav")), "audio/wav")},
                      data={"model": MODEL}, timeout=60)
    assert r.status_code == 200 and "text" in r.json()


def test_every_container(whisper):
    """Each format of the test audio, with and without a helpful file name."""
    texts = {}
    for name, ctype in (("speech.wav", "audio/wav"), ("speech.mp3", "audio/mpeg"),
                        ("speech.flac", "audio/flac"), ("speech.ogg", "audio/ogg"),
                        ("speech.opus", "audio/opus"), ("speech.m4a", "audio/mp4"),
                        ("speech.webm", "audio/webm"), ("speech.aiff", "audio/aiff"),
                        ("speech.aac", "audio/aac"), ("speech-f32.wav", None),
                        ("video-audio.mp4", "video/mp4")):
        r = whisper.transcribe(audio(name), {"response_format": "verbose_json"}, filename=name,
                               content_type=ctype)
        assert r.status_code == 200, (name, r.text)
        body = r.json()
        assert 5.5 < body["duration"] < 7, (name, body["duration"])
        assert len(body["segments"]) >= 1, name
        texts[name] = body["text"]
        r = whisper.transcribe(audio(name), filename="upload.bin")
        assert r.status_code == 200, (name, "no hint", r.text)
    assert all(texts.values())


def test_translation(whisper):
    r = whisper.transcribe(audio("phrases.wav"), {"response_format": "verbose_json"},
                           path="/v1/audio/translations")
    assert r.status_code == 200
    body = r.json()
    assert body["task"] == "translate" and body["language"] == "english"
    assert body["segments"] and all(s["text"].startswith(" [translated]")
                                    for s in body["segments"])
    # A source language given is the model's to translate from.
    r = whisper.transcribe(audio("phrases.wav"), {"language": "fr", "response_format": "text"},
                           path="/v1/audio/translations")
    assert r.status_code == 200 and r.text.startswith("[translated from fr]")


def test_missing_file_multipart(whisper):
    r = requests.post(whisper.url + "/v1/audio/transcriptions",
                      files={"model": (None, MODEL)}, timeout=30)
    assert_error(r, 400, "Missing 'file' field")


def test_missing_file_urlencoded_is_415(whisper):
    """The original's test_transcription_missing_file posts urlencoded data
    and expects 400; its code answers 415 (the body is not multipart).
    We follow the code (and OpenAI, which takes multipart only)."""
    r = requests.post(whisper.url + "/v1/audio/transcriptions", data={"model": MODEL}, timeout=30)
    msg = assert_error(r, 415)
    assert "multipart/form-data" in msg.lower()


def test_missing_model(whisper):
    r = requests.post(whisper.url + "/v1/audio/transcriptions",
                      files={"file": ("a.wav", audio("tone.wav"))}, timeout=30)
    assert_error(r, 400, "Missing 'model' field")
    r = requests.post(whisper.url + "/v1/audio/transcriptions", data={"model": "whisper-1"},
                      files={"file": ("a.wav", audio("tone.wav"))}, timeout=30)
    assert_error(r, 400, "Unsupported model 'whisper-1'. Available: Whisper-Base")


def test_invalid_endpoint(whisper):
    r = whisper.get("/invalid/endpoint")
    assert r.status_code == 404 and r.text == "404: Not Found"
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    r = requests.delete(whisper.url + "/v1/models", timeout=10)
    assert r.status_code == 405 and r.text == "405: Method Not Allowed"
    assert "GET" in r.headers["Allow"]


def test_non_multipart(whisper):
    r = requests.post(whisper.url + "/v1/audio/transcriptions",
                      json={"file": "test", "model": MODEL}, timeout=30)
    msg = assert_error(r, 415)
    assert "multipart/form-data" in msg.lower()
    # The original's words exactly.
    assert msg.startswith("Content-Type must be multipart/form-data. This endpoint follows the "
                          "OpenAI Whisper API specification")
    r = requests.post(whisper.url + "/v1/audio/transcriptions", data=audio("tone.wav"),
                      headers={"Content-Type": "audio/wav"}, timeout=30)
    assert "multipart" in assert_error(r, 415).lower()


def test_unknown_fields_are_ignored(whisper):
    r = whisper.transcribe(audio("tone.wav"), [("include[]", "logprobs"),
                                               ("chunking_strategy", "auto"),
                                               ("timestamp_granularities[]", "segment")])
    assert r.status_code == 200, r.text


def test_json_escapes_like_python(whisper):
    """Every reply is json.dumps: ASCII only, ", " and ": " separators."""
    r = whisper.transcribe(audio("phrases.wav"), {"response_format": "verbose_json"})
    assert re.fullmatch(r"[\x20-\x7e]*", r.text)
    assert json.dumps(r.json()) == r.text
