#!/usr/bin/python3
"""A device-manager client that behaves as the original stack's
device_client.py does, written for these tests from its documented
behaviour (docs/PROTOCOL.md, ORIGINAL-SERVICES.md section 1), so that the
original Python services' view of our manager can be checked without their
code:

  - socket $HAILO_DEVICE_SOCKET or /run/hailo/device.sock; connecting is
    tried 3 times (0.25 s, 0.5 s apart); a missing socket raises
    RuntimeError("Device manager socket not found at P") at once, any other
    failure RuntimeError("Failed to connect to device manager: E");
  - frames: 4-byte big-endian length + UTF-8 JSON (json.dumps defaults);
    messages above 8 MiB are refused both ways ("Request too large: N
    bytes", "Response too large: N bytes"), wrapped as
    RuntimeError("Request failed: ...") and the connection dropped;
  - one request at a time; request_id a uuid4 string unless the request
    has one; an answer with another request_id raises "Mismatched response
    request_id"; no answer within the timeout (30 s by default) raises
    RuntimeError("Request timeout") and drops the connection; a closed
    connection raises "Request failed: Device manager connection closed";
  - an answer with "error" raises RuntimeError("Device manager error: E");
  - load_model checks the model file exists first (FileNotFoundError
    "Model file not found: P"); model_type defaults to "vlm"; model_params
    is sent only when given (and not empty).

Run as a program it executes the steps of a JSON list on stdin with one
client and prints one JSON result per step: {"ok": answer} or
{"raised": exception type, "message": str(exception)}.
Steps: {"op": "ping" | "status" | "device_status" | "load_model" | "infer" |
"unload_model" | "send", ...arguments}; "send" sends a raw request (to give
it a request_id of any type).  {"timeout": s} in the first step's "client"
sets the client's timeout.
"""

import asyncio
import json
import os
import struct
import sys
import uuid
from pathlib import Path

SOCKET_PATH = "/run/hailo/device.sock"
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class OriginalClient:
    def __init__(self, socket_path=None, timeout=30.0, max_message_bytes=MAX_MESSAGE_BYTES):
        self.socket_path = socket_path or os.environ.get("HAILO_DEVICE_SOCKET", SOCKET_PATH)
        self.timeout = timeout
        self.max_bytes = max_message_bytes
        self.reader = self.writer = None
        self.lock = asyncio.Lock()

    async def connect(self):
        for attempt in (1, 2, 3):
            try:
                self.reader, self.writer = await asyncio.wait_for(
                    asyncio.open_unix_connection(self.socket_path), timeout=self.timeout)
                return
            except FileNotFoundError:
                raise RuntimeError(f"Device manager socket not found at {self.socket_path}")
            except Exception as e:  # noqa: BLE001 - the original catches everything here
                if attempt == 3:
                    raise RuntimeError(f"Failed to connect to device manager: {e}")
                await asyncio.sleep(0.25 * attempt)

    async def disconnect(self):
        if self.writer:
            try:
                self.writer.close()
                await self.writer.wait_closed()
            except Exception:  # noqa: BLE001
                pass
            finally:
                self.reader = self.writer = None

    async def _write(self, payload):
        body = json.dumps(payload).encode("utf-8")
        if len(body) > self.max_bytes:
            raise RuntimeError(f"Request too large: {len(body)} bytes")
        self.writer.write(struct.pack(">I", len(body)) + body)
        await self.writer.drain()

    async def _read(self):
        try:
            (n,) = struct.unpack(">I", await self.reader.readexactly(4))
        except asyncio.IncompleteReadError:
            return None
        if n > self.max_bytes:
            raise RuntimeError(f"Response too large: {n} bytes")
        try:
            body = await self.reader.readexactly(n)
        except asyncio.IncompleteReadError:
            return None
        return json.loads(body.decode("utf-8"))

    async def request(self, req):
        async with self.lock:
            if not self.writer:
                await self.connect()
            rid = req.get("request_id", str(uuid.uuid4()))
            req["request_id"] = rid
            try:
                await self._write(req)
                answer = await asyncio.wait_for(self._read(), timeout=self.timeout)
                if not answer:
                    raise RuntimeError("Device manager connection closed")
            except asyncio.TimeoutError:
                await self.disconnect()
                raise RuntimeError("Request timeout")
            except Exception as e:  # noqa: BLE001
                await self.disconnect()
                raise RuntimeError(f"Request failed: {e}")
            if answer.get("request_id") != rid:
                raise RuntimeError("Mismatched response request_id")
            if "error" in answer:
                raise RuntimeError(f"Device manager error: {answer['error']}")
            return answer

    async def load_model(self, model_path, model_type="vlm", model_params=None):
        if not Path(model_path).exists():
            raise FileNotFoundError(f"Model file not found: {model_path}")
        req = {"action": "load_model", "model_path": str(model_path), "model_type": model_type}
        if model_params:
            req["model_params"] = model_params
        return await self.request(req)

    async def infer(self, model_path, input_data, model_type="vlm", model_params=None):
        req = {"action": "infer", "model_path": str(model_path), "model_type": model_type,
               "input_data": input_data}
        if model_params:
            req["model_params"] = model_params
        return await self.request(req)

    async def unload_model(self, model_path, model_type="vlm"):
        return await self.request({"action": "unload_model", "model_path": str(model_path),
                                   "model_type": model_type})


async def run(steps):
    opts = steps[0].get("client", {}) if steps else {}
    client = OriginalClient(timeout=opts.get("timeout", 30.0))
    out = []
    for step in steps:
        args = {k: v for k, v in step.items() if k not in ("op", "client")}
        op = step["op"]
        try:
            if op in ("ping", "status", "device_status"):
                answer = await client.request({"action": op})
            elif op == "send":
                answer = await client.request(args["request"])
            else:
                answer = await getattr(client, op)(**args)
            out.append({"ok": answer})
        except Exception as e:  # noqa: BLE001 - reported to the test
            out.append({"raised": type(e).__name__, "message": str(e)})
    await client.disconnect()
    return out


if __name__ == "__main__":
    results = asyncio.run(run(json.load(sys.stdin)))
    json.dump(results, sys.stdout)
