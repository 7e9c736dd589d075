// The Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible` + `zod`) against the gateway:
// generateObject and streamObject on every provider kind. Run by tests/sdk/test_node_ai_sdk.py,
// which starts the gateway and passes SWITCHYARD_BASE_URL, SWITCHYARD_KEY and SWITCHYARD_MODELS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateObject, streamObject } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { z } from "zod";

const provider = createOpenAICompatible({
  name: "switchyard",
  baseURL: process.env.SWITCHYARD_BASE_URL,
  apiKey: process.env.SWITCHYARD_KEY,
  supportsStructuredOutputs: true,
});
const models = JSON.parse(process.env.SWITCHYARD_MODELS ?? "[]");

const Person = z.object({
  name: z.string(),
  age: z.number().int(),
  tags: z.array(z.string()),
  pet: z.object({ kind: z.enum(["cat", "dog"]), name: z.string() }),
});

test("models were given", () => assert.ok(models.length > 0));

for (const model of models) {
  test(`generateObject on ${model}`, async () => {
    const { object, finishReason } = await generateObject({
      model: provider.chatModel(model),
      schema: Person,
      prompt: "Describe a person.",
      maxRetries: 0,
    });
    assert.equal(finishReason, "stop");
    assert.ok(["cat", "dog"].includes(object.pet.kind));
    assert.ok(object.tags.length >= 1);
  });

  test(`streamObject on ${model}`, async () => {
    const result = streamObject({
      model: provider.chatModel(model),
      schema: Person,
      prompt: "Describe a person.",
      maxRetries: 0,
    });
    let partials = 0;
    for await (const _ of result.partialObjectStream) partials += 1;
    const object = await result.object;
    assert.ok(partials >= 1);
    assert.equal(typeof object.name, "string");
  });
}
