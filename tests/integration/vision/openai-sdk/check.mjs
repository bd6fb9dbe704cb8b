// check.mjs - drives hailo-vision with the official openai npm package.
// Usage: node check.mjs BASE_URL MODEL PNG_DATA_URI
// Prints one JSON summary line; exits non-zero (with the reason) on any mismatch.
import OpenAI from "openai";
import assert from "node:assert/strict";

const [baseURL, model, image] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "not-needed", maxRetries: 0, timeout: 60000 });

const models = await client.models.list();
const ids = models.data.map((m) => m.id);
assert.deepEqual(ids, [model]);
const one = await client.models.retrieve(model);
assert.equal(one.owned_by, "hailo");

const messages = [
  { role: "system", content: "You describe pictures." },
  {
    role: "user",
    content: [
      { type: "image_url", image_url: { url: image } },
      { type: "text", text: "What is in this picture?" },
    ],
  },
];

const completion = await client.chat.completions.create({
  model, messages, max_tokens: 30, temperature: 0, seed: 4,
});
assert.equal(completion.object, "chat.completion");
assert.match(completion.id, /^chatcmpl-[0-9a-f]{24}$/);
const answer = completion.choices[0].message.content;
assert.ok(answer.length > 0);
assert.equal(completion.choices[0].message.role, "assistant");
assert.ok(["stop", "length"].includes(completion.choices[0].finish_reason));
assert.ok(completion.usage.prompt_tokens > 0 && completion.usage.completion_tokens > 0);

const stream = await client.chat.completions.create({
  model, messages, max_tokens: 30, temperature: 0, seed: 4, stream: true,
  stream_options: { include_usage: true },
});
let streamed = "";
let chunks = 0;
let finish = null;
let usage = null;
for await (const chunk of stream) {
  chunks++;
  assert.equal(chunk.object, "chat.completion.chunk");
  if (chunk.usage) usage = chunk.usage;
  for (const c of chunk.choices) {
    streamed += c.delta.content ?? "";
    if (c.finish_reason) finish = c.finish_reason;
  }
}
assert.equal(streamed, answer);
assert.equal(finish, completion.choices[0].finish_reason);
assert.deepEqual(usage, completion.usage);
assert.ok(chunks >= 5);

// The SDK's own streaming helper assembles the same message.
const runner = client.chat.completions.stream({ model, messages, max_tokens: 30, temperature: 0, seed: 4 });
const final = await runner.finalChatCompletion();
assert.equal(final.choices[0].message.content, answer);

// Any model name is served by the loaded model, as the original service did;
// the answer names the model that served it.
const other = await client.chat.completions.create({ model: "gpt-4o", messages, max_tokens: 3 });
assert.equal(other.model, model);

let notFound = null;
try {
  await client.models.retrieve("gpt-4o");
} catch (e) {
  notFound = e;
}
assert.ok(notFound instanceof OpenAI.NotFoundError, String(notFound));
assert.equal(notFound.status, 404);

let bad = null;
try {
  await client.chat.completions.create({ model, messages: [] });
} catch (e) {
  bad = e;
}
assert.ok(bad instanceof OpenAI.BadRequestError, String(bad));

console.log(JSON.stringify({ ok: true, models: ids, answer, streamed_chunks: chunks, usage }));
