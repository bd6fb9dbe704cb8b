"""stream=true: the transcription as server-sent events in the shapes of
OpenAI's transcription streams (transcript.text.delta per segment, then
transcript.text.done), each window's segments sent as soon as the model
answered it."""

import json

import pytest
import requests

from conftest import (MODEL, Whisper, assert_error, audio, manager_call, model_requests,
                      raw_request, slow_model, sse_events, wait_until, whisper_yaml)


def stream(w, name, fields=(), path="/v1/audio/transcriptions"):
    r = requests.post(w.url + path, data=[("model", MODEL), ("stream", "true"), *fields],
                      files={"file": (name, audio(name))}, stream=True, timeout=120)
    return r


def test_events_add_up_to_the_text(whisper):
    r = stream(whisper, "phrases.wav")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(r)
    plain = whisper.transcribe(audio("phrases.wav")).json()["text"]
    *deltas, done = events
    assert len(deltas) == 3
    assert all(list(e) == ["type", "delta"] and e["type"] == "transcript.text.delta"
               for e in deltas)
    assert list(done) == ["type", "text"] and done["type"] == "transcript.text.done"
    assert done["text"] == plain
    assert "".join(e["delta"] for e in deltas) == plain


def test_silence_streams_only_done(whisper):
    events = sse_events(stream(whisper, "silence.wav"))
    assert events == [{"type": "transcript.text.done", "text": ""}]


def test_raw_event_bytes(whisper):
    """Each event is one `data: <json.dumps>` line and a blank line."""
    r = stream(whisper, "tone.wav")
    raw = r.content.decode()
    assert raw.startswith('data: {"type": "transcript.text.delta", "delta": "')
    assert raw.endswith('"}\n\n')
    for block in raw.split("\n\n")[:-1]:
        assert block.startswith("data: ") and "\n" not in block
        json.loads(block[6:])


def test_translation_stream(whisper):
    events = sse_events(stream(whisper, "phrases.wav", path="/v1/audio/translations"))
    assert events[-1]["type"] == "transcript.text.done"
    assert events[-1]["text"].startswith("[translated]")


def test_bad_audio_is_a_plain_error(whisper):
    """What can be told from the file's header is a plain 4xx, not a stream."""
    r = stream(whisper, "video-only.mp4")
    assert_error(r, 400, "no audio stream")
    r = requests.post(whisper.url + "/v1/audio/transcriptions",
                      data={"model": MODEL, "stream": "true"},
                      files={"file": ("x.txt", b"hello, this is not audio\n" * 10)}, timeout=30)
    assert_error(r, 400, "not in a recognised audio format")
    r = requests.post(whisper.url + "/v1/audio/transcriptions",
                      data={"model": MODEL, "stream": "maybe"},
                      files={"file": ("a.wav", audio("tone.wav"))}, timeout=30)
    assert_error(r, 400, "stream")


def test_damaged_audio_is_an_error_event(whisper):
    """Damage found only while decoding ends the stream with an error event
    (the OpenAI SDKs raise it)."""
    events = sse_events(stream(whisper, "damaged.mp3"))
    assert events[-1] == {"error": {"message": events[-1]["error"]["message"],
                                    "type": "invalid_request_error"}}
    assert "damaged" in events[-1]["error"]["message"]


@pytest.fixture(scope="module")
def slow_whisper(stack):
    hef = slow_model(stack, "whisper-slow.hef", infer_ms=300)
    w = Whisper(stack, whisper_yaml(stack, name="slow", hef=hef, max_seconds=3600),
                name="slow").start()
    w.hef = hef
    yield w
    alive = w.alive()
    w.stop()
    assert alive, w.log_text()[-3000:]


def test_segments_arrive_while_transcribing(stack, slow_whisper):
    """The first delta comes while later windows are still on the model:
    the manager has run fewer than all 20 windows when it is read."""
    before = model_requests(stack, slow_whisper.hef)
    r = stream(slow_whisper, "long-10min.mp3")
    lines = r.iter_lines(decode_unicode=True)
    first = next(line for line in lines if line.startswith("data: "))
    assert json.loads(first[6:])["type"] == "transcript.text.delta"
    assert model_requests(stack, slow_whisper.hef) - before < 18
    rest = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert rest[-1]["type"] == "transcript.text.done"
    assert model_requests(stack, slow_whisper.hef) - before >= 20


def test_hang_up_cancels_the_remaining_windows(stack, slow_whisper):
    before = model_requests(stack, slow_whisper.hef)
    s = raw_request(slow_whisper, audio("long-10min.mp3"), [("stream", "true")])
    got = b""
    while b"transcript.text.delta" not in got:
        chunk = s.recv(4096)
        assert chunk, "the stream ended before its first event"
        got += chunk
    s.close()
    wait_until(lambda: "client went away" in slow_whisper.log_text(), 30,
               "the stream to notice the hang-up")
    wait_until(lambda: manager_call(stack.socket, {"action": "status"})["scheduler"]["running"]
               == 0, 30, "the manager to be idle")
    assert model_requests(stack, slow_whisper.hef) - before < 18
    assert slow_whisper.get("/health/ready").status_code == 200
