// openai-check.mjs - drives hailo-llm's /v1 API with the official openai npm package.
// Usage: node openai-check.mjs BASE_URL MODEL
// Prints one JSON summary line; exits non-zero (with the reason) on any mismatch.
import OpenAI from "openai";
import assert from "node:assert/strict";

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "not-needed", maxRetries: 0, timeout: 60000 });

const models = await client.models.list();
const ids = models.data.map((m) => m.id);
assert.ok(ids.includes(model), `models: ${ids}`);

const messages = [
  { role: "developer", content: "You are terse." },
  { role: "user", content: "Tell me about comets" },
];
const completion = await client.chat.completions.create({ model, messages, seed: 2 });
assert.equal(completion.object, "chat.completion");
assert.match(completion.id, /^chatcmpl-[0-9a-f]{24}$/);
assert.match(completion.choices[0].message.content, /comets/);
assert.equal(completion.choices[0].finish_reason, "stop");
assert.ok(completion.usage.prompt_tokens > 0 && completion.usage.completion_tokens > 0);

// Streamed, with usage.
messages.push(completion.choices[0].message, { role: "user", content: "What are they made of?" });
const stream = await client.chat.completions.create({
  model, messages, stream: true, stream_options: { include_usage: true },
});
let text = "";
let usage = null;
let finish = null;
for await (const chunk of stream) {
  if (chunk.choices.length) {
    text += chunk.choices[0].delta.content ?? "";
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  if (chunk.usage) usage = chunk.usage;
}
assert.match(text, /Earlier you mentioned comets/);
assert.equal(finish, "stop");
assert.ok(usage.prompt_tokens > completion.usage.prompt_tokens);

// Stop and max_tokens.
const stopped = await client.chat.completions.create({
  model, messages: [{ role: "user", content: "hi" }], stop: ["simulated answer"],
});
assert.equal(stopped.choices[0].message.content, "This is a ");
const short = await client.chat.completions.create({
  model, messages: [{ role: "user", content: "hi" }], max_tokens: 3,
});
assert.equal(short.choices[0].finish_reason, "length");
assert.equal(short.usage.completion_tokens, 3);

// Tools: a call, then the answer to it.
const tools = [{
  type: "function",
  function: { name: "lookup", description: "Looks a word up", parameters: { type: "object", properties: { word: { type: "string" } } } },
}];
const call = await client.chat.completions.create({ model, tools, messages: [{ role: "user", content: "lookup ephemeral" }] });
assert.equal(call.choices[0].finish_reason, "tool_calls");
const tc = call.choices[0].message.tool_calls[0];
assert.equal(tc.function.name, "lookup");
assert.deepEqual(JSON.parse(tc.function.arguments), { word: "ephemeral" });
const answer = await client.chat.completions.create({
  model, tools,
  messages: [{ role: "user", content: "lookup ephemeral" }, call.choices[0].message,
    { role: "tool", tool_call_id: tc.id, content: "lasting a short time" }],
});
assert.match(answer.choices[0].message.content, /The tool lookup answered: "lasting a short time"/);

// Streamed tool call.
let streamedCall = null;
for await (const chunk of await client.chat.completions.create({ model, tools, stream: true, messages: [{ role: "user", content: "lookup ephemeral" }] })) {
  const d = chunk.choices[0]?.delta;
  if (d?.tool_calls) streamedCall = d.tool_calls[0];
}
assert.equal(streamedCall.function.name, "lookup");

// JSON mode.
const js = await client.chat.completions.create({
  model, response_format: { type: "json_object" }, messages: [{ role: "user", content: "list oceans" }],
});
assert.ok(JSON.parse(js.choices[0].message.content).topics.includes("oceans"));

// Errors: the SDK's classes.
await assert.rejects(client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }),
  (e) => e instanceof OpenAI.NotFoundError && e.param === "model");
await assert.rejects(client.chat.completions.create({ model, messages: [] }),
  (e) => e instanceof OpenAI.BadRequestError && e.param === "messages");

console.log(JSON.stringify({ ok: true, models: ids, usage }));
