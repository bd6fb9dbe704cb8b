// check.mjs - drives hailo-whisper with the official openai npm package.
// Usage: node check.mjs BASE_URL MODEL AUDIO_DIR
// Every response format, a translation, a streamed transcription, the
// SDK's error classes.  Prints one JSON summary line; exits non-zero (with
// the reason) on any mismatch.
import OpenAI, { toFile } from "openai";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const [baseURL, model, audioDir] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "not-needed", maxRetries: 0, timeout: 120000 });
const file = (name) => fs.createReadStream(path.join(audioDir, name));

const models = await client.models.list();
assert.deepEqual(models.data.map((m) => m.id), [model]);

// json (the default)
const plain = await client.audio.transcriptions.create({ file: file("phrases.wav"), model });
assert.equal(typeof plain.text, "string");
assert.ok(plain.text.length > 0);
assert.deepEqual(Object.keys(plain), ["text"]);

// verbose_json: the original's fields; segments with times
const verbose = await client.audio.transcriptions.create({
  file: file("phrases.wav"), model, response_format: "verbose_json",
  timestamp_granularities: ["segment"],
});
assert.equal(verbose.task, "transcribe");
assert.equal(verbose.text, plain.text);
assert.equal(verbose.segments.length, 3);
assert.ok(verbose.duration > 12 && verbose.duration < 14);
let last = 0;
for (const [i, s] of verbose.segments.entries()) {
  assert.equal(s.id, i);
  assert.ok(s.start >= last && s.end > s.start, JSON.stringify(s));
  last = s.end;
}

// text, srt, vtt come back as strings
const text = await client.audio.transcriptions.create({
  file: file("phrases.wav"), model, response_format: "text",
});
assert.equal(text, plain.text);
const srt = await client.audio.transcriptions.create({
  file: file("phrases.wav"), model, response_format: "srt",
});
assert.match(srt, /^1\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d\n/);
assert.equal(srt.split("-->").length - 1, 3);
const vtt = await client.audio.transcriptions.create({
  file: file("phrases.wav"), model, response_format: "vtt",
});
assert.match(vtt, /^WEBVTT\n\n\d\d:\d\d:\d\d\.\d\d\d --> /);

// an MP3 from memory, with a language
const mp3 = await toFile(fs.readFileSync(path.join(audioDir, "speech.mp3")), "speech.mp3");
const german = await client.audio.transcriptions.create({
  file: mp3, model, language: "de", response_format: "verbose_json",
});
assert.equal(german.language, "de");
assert.ok(german.text.startsWith("[de]"), german.text);

// streaming: deltas add up to the final text
const stream = await client.audio.transcriptions.create({
  file: file("phrases.wav"), model, stream: true,
});
let streamed = "";
let done = null;
let deltas = 0;
for await (const event of stream) {
  if (event.type === "transcript.text.delta") {
    streamed += event.delta;
    deltas++;
  } else if (event.type === "transcript.text.done") {
    done = event.text;
  }
}
assert.equal(deltas, 3);
assert.equal(streamed, plain.text);
assert.equal(done, plain.text);

// translation
const translation = await client.audio.translations.create({ file: file("phrases.wav"), model });
assert.ok(translation.text.startsWith("[translated]"), translation.text);
const tverbose = await client.audio.translations.create({
  file: file("phrases.wav"), model, response_format: "verbose_json",
});
assert.equal(tverbose.language, "english");
assert.equal(tverbose.segments.length, 3);

// errors: the SDK's classes, our sentences
async function failure(params) {
  try {
    await client.audio.transcriptions.create(params);
  } catch (e) {
    return e;
  }
  assert.fail("expected an error for " + JSON.stringify({ ...params, file: undefined }));
}
const words = await failure({
  file: file("tone.wav"), model, response_format: "verbose_json",
  timestamp_granularities: ["word"],
});
assert.ok(words instanceof OpenAI.BadRequestError, String(words));
assert.equal(words.status, 400);
assert.match(words.message, /segment timestamps only/);
assert.equal(words.type, "invalid_request_error");
const format = await failure({ file: file("tone.wav"), model, response_format: "xml" });
assert.ok(format instanceof OpenAI.BadRequestError, String(format));
assert.match(format.message, /response_format 'xml'/);
const wrong = await failure({ file: file("tone.wav"), model: "whisper-1" });
assert.ok(wrong instanceof OpenAI.BadRequestError, String(wrong));
assert.match(wrong.message, /Unsupported model 'whisper-1'\. Available: /);
const notAudio = await failure({
  file: await toFile(Buffer.from("just some text\n".repeat(20)), "notes.txt"), model,
});
assert.ok(notAudio instanceof OpenAI.BadRequestError, String(notAudio));

// an error during a stream reaches the SDK as an APIError
let streamError = null;
try {
  const damaged = await client.audio.transcriptions.create({
    file: file("damaged.mp3"), model, stream: true,
  });
  for await (const event of damaged) void event;
} catch (e) {
  streamError = e;
}
assert.ok(streamError instanceof OpenAI.APIError, String(streamError));
assert.match(streamError.message, /damaged/);

console.log(JSON.stringify({
  ok: true, models: models.data.map((m) => m.id), text: plain.text,
  segments: verbose.segments.length, deltas,
}));
