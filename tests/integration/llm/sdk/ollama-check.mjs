// ollama-check.mjs - drives hailo-llm with the official ollama npm package.
// Usage: node ollama-check.mjs HOST MODEL
// Prints one JSON summary line; exits non-zero (with the reason) on any mismatch.
import { Ollama } from "ollama";
import assert from "node:assert/strict";

const [host, model] = process.argv.slice(2);
const ollama = new Ollama({ host });

const version = await ollama.version();
assert.ok(version.version.length > 0);

const list = await ollama.list();
const names = list.models.map((m) => m.name);
assert.ok(names.includes(`${model}:latest`), `list: ${names}`);
const entry = list.models.find((m) => m.name === `${model}:latest`);
assert.equal(entry.details.format, "hef");
assert.ok(entry.size > 0);

const show = await ollama.show({ model });
assert.equal(show.details.parameter_size, "1.5B");
assert.ok(show.capabilities.includes("completion"));

// Non-streamed chat.
const messages = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Tell me about glaciers" },
];
const first = await ollama.chat({ model, messages, options: { seed: 3, temperature: 0.5 } });
assert.equal(first.message.role, "assistant");
assert.match(first.message.content, /glaciers/);
assert.equal(first.done, true);
assert.ok(first.prompt_eval_count > 0 && first.eval_count > 0);

// Streamed chat, second turn: more prompt tokens, the earlier turn remembered.
messages.push(first.message, { role: "user", content: "And how fast do they move?" });
let streamed = "";
let chunks = 0;
let last = null;
for await (const part of await ollama.chat({ model, messages, stream: true })) {
  if (!part.done) {
    streamed += part.message.content;
    chunks++;
  }
  last = part;
}
assert.ok(chunks > 3, `only ${chunks} chunks`);
assert.equal(last.done, true);
assert.match(streamed, /Earlier you mentioned glaciers/);
assert.ok(last.prompt_eval_count > first.prompt_eval_count + first.eval_count);

// Stop sequences and num_predict.
const stopped = await ollama.chat({
  model, messages: [{ role: "user", content: "hi" }], options: { stop: ["simulated answer"] },
});
assert.equal(stopped.message.content, "This is a ");
const short = await ollama.generate({ model, prompt: "Describe the sea", options: { num_predict: 4 } });
assert.equal(short.eval_count, 4);
assert.equal(short.done_reason, "length");

// Streamed generate.
let gen = "";
for await (const part of await ollama.generate({ model, prompt: "Why is grass green?", stream: true })) {
  gen += part.response;
}
assert.match(gen, /grass/);

// JSON mode and tools.
const js = await ollama.chat({ model, format: "json", messages: [{ role: "user", content: "name two planets" }] });
assert.ok(JSON.parse(js.message.content).topics.includes("planets"));
const tools = [{
  type: "function",
  function: {
    name: "get_weather", description: "Current weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
}];
const called = await ollama.chat({ model, tools, messages: [{ role: "user", content: "weather in Oslo?" }] });
assert.deepEqual(called.message.tool_calls, [{ function: { name: "get_weather", arguments: { city: "oslo" } } }]);

// Loaded models.
const ps = await ollama.ps();
assert.ok(ps.models.some((m) => m.name === `${model}:latest`), JSON.stringify(ps));

// Errors are ResponseErrors with the status.
await assert.rejects(ollama.chat({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
  (e) => e.name === "ResponseError" && e.status_code === 404 && /not found/.test(e.error));

// Abort a stream mid-way (the service cancels the generation).
const it = await ollama.chat({ model: process.argv[4] ?? model, messages: [{ role: "user", content: "Write a long story" }], stream: true });
let seen = 0;
try {
  for await (const part of it) {
    if (++seen === 2) it.abort();
  }
} catch (e) {
  assert.equal(e.name, "AbortError");
}
assert.equal(seen, 2);

console.log(JSON.stringify({ ok: true, models: names, chunks, tokens: last.eval_count }));
