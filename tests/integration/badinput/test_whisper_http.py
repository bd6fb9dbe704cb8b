"""Bad input to hailo-whisper: each answers a clear 4xx in the original's
error shape ({"error": {"message", "type"}}) naming the problem, nothing
crashes, and the service then transcribes a good request.  The audio is
the generated test audio of src/audio (ctest's audio_files fixture)."""

import json
import os
import socket
import struct
import subprocess
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

MODEL = "Whisper-Base"
URL_PATH = "/v1/audio/transcriptions"
MAX_FILE = 25 * 1024 * 1024
MAX_BODY = MAX_FILE + 1024 * 1024


def audio(name):
    d = os.environ.get("HDM_TEST_AUDIO") or os.path.join(hdmtest.BUILD_DIR, "tests", "data",
                                                         "audio")
    if not os.path.exists(os.path.join(d, ".stamp")):
        subprocess.run([os.path.join(hdmtest.SOURCE_DIR, "tests", "data", "audio",
                                     "make-audio.sh"), d], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def whisper():
    st = hdmtest.SimStack(prefix="hdm-bad-whisper-")
    svc = hdmtest.Service(st, "hailo-whisper", config=os.path.join(st.root, "hailo-whisper.yaml"))
    svc.ready_path = "/health/ready"
    try:
        st.start_manager()
        svc.start()
        yield svc
        assert svc.alive(), "hailo-whisper died:\n" + svc.log()[-3000:]
        svc.stop()
    finally:
        st.cleanup([svc])


def post(w, files=None, data=None, **kw):
    kw.setdefault("timeout", 120)
    return requests.post(w.url + URL_PATH, files=files, data=data, **kw)


def send(w, fields=(), file=None, filename="a.wav"):
    files = {"file": (filename, file)} if file is not None else None
    return post(w, files=files, data=[("model", MODEL), *fields])


def raw(w, head, body=b"", read=True):
    """Sends raw bytes; returns (status, body bytes) or (None, b"") when the
    server closed without an answer."""
    s = socket.create_connection(("127.0.0.1", w.port), timeout=60)
    try:
        s.sendall(head)
        if body:
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
        data = b""
        while read:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data:
        return None, b""
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[-1]


def check(r, status, words):
    assert r.status_code == status, f"{r.status_code}: {r.text[:400]}"
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type"}, body
    assert body["error"]["type"] == "invalid_request_error"
    assert words in body["error"]["message"], body


def still_serves(w):
    r = send(w, file=audio("phrases.wav"))
    assert r.status_code == 200, r.text
    assert r.json()["text"]


def test_not_audio(whisper):
    check(send(whisper, file=b"Just some text, not audio.\n" * 40, filename="notes.txt"), 400,
          "supported: WAV")
    check(send(whisper, file=bytes(range(256)) * 64, filename="noise.bin"), 400, "supported: WAV")
    check(send(whisper, file=audio("speech.au"), filename="speech.au"), 400, "")
    still_serves(whisper)


def test_zero_length(whisper):
    check(send(whisper, file=b""), 400, "Missing 'file' field")
    still_serves(whisper)


def test_truncated_mp3(whisper):
    """An MP3 cut after its first 300 bytes has nothing to decode: 400.  One
    cut at 40 % decodes what is there, as ffmpeg (and so the original) did."""
    check(send(whisper, file=audio("truncated-head.mp3"), filename="t.mp3"), 400, "MP3")
    r = send(whisper, [("response_format", "verbose_json")], file=audio("truncated.mp3"),
             filename="t.mp3")
    assert r.status_code == 200 and 1 < r.json()["duration"] < 4, r.text
    still_serves(whisper)


def test_damaged_and_unsupported(whisper):
    check(send(whisper, file=audio("damaged.mp3"), filename="d.mp3"), 400, "damaged")
    check(send(whisper, file=audio("speech-ac3.mka"), filename="s.mka"), 400, "not supported")
    check(send(whisper, file=audio("video-only.mp4"), filename="v.mp4"), 400, "no audio stream")
    still_serves(whisper)


def test_claims_three_hours(whisper):
    check(send(whisper, file=audio("claims-3h.mp3"), filename="c.mp3"), 400,
          "Audio duration exceeds 300 seconds")
    still_serves(whisper)


def test_hostile_wav_header(whisper):
    """A WAV whose header claims 2 GB of data and gigantic rates holds 100 bytes."""
    fmt = struct.pack("<HHIIHH", 1, 2, 4000000000 // 4, 4000000000, 4, 16)
    wav = (b"RIFF" + struct.pack("<I", 0xFFFFFFF0) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
           + fmt + b"data" + struct.pack("<I", 0x7FFFFFF0) + b"\x01" * 100)
    r = send(whisper, file=wav)
    assert r.status_code == 400, r.text
    still_serves(whisper)


def test_fifty_megabytes_of_zeros(whisper):
    # Announced: refused from the headers, before the body is read.
    head = (f"POST {URL_PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
            f"boundary=b\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n").encode()
    status, body = raw(whisper, head)
    assert status == 413, body
    msg = json.loads(body)["error"]["message"]
    assert msg.startswith("Audio file too large") and str(MAX_BODY) in msg
    # Sent chunked (no length announced): refused once the body goes over.
    head = (f"POST {URL_PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
            f"boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"100000\r\n" + b"\0" * 0x100000 + b"\r\n"
    status, body = raw(whisper, head, chunk * 50 + b"0\r\n\r\n")
    assert status in (413, None), body
    still_serves(whisper)


def test_file_just_over_the_limit(whisper):
    """Within the body limit but over the file limit: the original's
    sentence, with the 413 its API_SPEC promised (its code said 400)."""
    check(send(whisper, file=b"\0" * (MAX_FILE + 1)), 413,
          f"Audio file too large (max {MAX_FILE} bytes)")
    # Twenty megabytes of zeros within the limit: not audio.
    check(send(whisper, file=b"\0" * (20 * 1024 * 1024)), 400, "all zeros")
    still_serves(whisper)


def test_missing_and_doubled_file(whisper):
    check(post(whisper, files={"model": (None, MODEL)}), 400, "Missing 'file' field")
    r = post(whisper, files=[("file", ("a.wav", audio("tone.wav"))),
                             ("file", ("b.wav", audio("tone.wav")))], data={"model": MODEL})
    check(r, 400, "Invalid multipart request")
    assert "'file'" in r.json()["error"]["message"]
    still_serves(whisper)


def test_fields(whisper):
    tone = audio("tone.wav")
    check(send(whisper, [("response_format", "xml")], file=tone), 400,
          "response_format 'xml' is not one of json, text, srt, verbose_json, vtt")
    check(send(whisper, [("timestamp_granularities[]", "word")], file=tone), 400,
          "segment timestamps only")
    check(send(whisper, [("timestamp_granularities[]", "sentence")], file=tone), 400,
          "must be 'segment' or 'word'")
    check(send(whisper, [("stream", "perhaps")], file=tone), 400, "stream")
    check(send(whisper, [("language", "en\"}, {\"x")], file=tone), 400, "not a language code")
    check(send(whisper, [("language", "x" * 40)], file=tone), 400, "not a language code")
    check(post(whisper, files={"file": ("a.wav", tone), "model": (None, b"Whisper\xff")}), 400,
          "UTF-8")
    check(post(whisper, files={"file": ("a.wav", tone)}), 400, "Missing 'model' field")
    check(send(whisper, [("model", "")], file=tone), 400, "")
    # The original ignored a bad temperature; so do we.
    assert send(whisper, [("temperature", "hot")], file=tone).status_code == 200
    still_serves(whisper)


def test_multipart_framing(whisper):
    tone = audio("tone.wav")
    r = post(whisper, data=tone, headers={"Content-Type": "multipart/form-data"})
    check(r, 400, "Invalid multipart request")
    assert "boundary" in r.json()["error"]["message"]
    r = post(whisper, data=b"this is not what the boundary promised",
             headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    check(r, 400, "Invalid multipart request")
    body = (b"--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b--\r\n")
    r = post(whisper, data=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    check(r, 400, "Invalid multipart request")
    body = b"".join(b"--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n" % i
                    for i in range(100)) + b"--b--\r\n"
    r = post(whisper, data=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    check(r, 400, "Invalid multipart request")
    still_serves(whisper)


def test_not_multipart(whisper):
    """An urlencoded body (the original's own test_transcription_missing_file
    sends one and expects 400; its code answers 415): 415, as its code and
    OpenAI, naming multipart/form-data."""
    r = post(whisper, data={"model": MODEL})
    assert r.status_code == 415 and "multipart/form-data" in r.json()["error"]["message"]
    r = post(whisper, data=b'{"model": "Whisper-Base"}',
             headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    r = post(whisper, data=b"")
    assert r.status_code == 415
    still_serves(whisper)


def test_chunked_framing(whisper):
    """A good chunked upload works (the openai npm package streams files
    that way); a chunk line over libmicrohttpd's 32 KiB buffer gets its own
    error page or a closed connection, and the service goes on."""
    prepared = requests.Request("POST", whisper.url + URL_PATH, data={"model": MODEL},
                                files={"file": ("a.wav", audio("tone.wav"))}).prepare()
    head = (f"POST {URL_PATH} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: "
            f"{prepared.headers['Content-Type']}\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    body = prepared.body
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 4000]), body[i:i + 4000])
                      for i in range(0, len(body), 4000))
    status, reply = raw(whisper, head, chunks + b"0\r\n\r\n")
    assert status == 200 and json.loads(reply)["text"], reply
    status, reply = raw(whisper, head, b"7;ext=" + b"a" * 65536 + b"\r\nabcdefg\r\n0\r\n\r\n")
    assert status is None or status >= 400, (status, reply)
    still_serves(whisper)


def test_hang_up_mid_upload(whisper):
    head = (f"POST {URL_PATH} HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; "
            f"boundary=b\r\nContent-Length: 1000000\r\n\r\n").encode()
    raw(whisper, head, b"--b\r\n" + b"x" * 1000, read=False)
    still_serves(whisper)
