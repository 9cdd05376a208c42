import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEmulator, type TestEmulator } from "../support/emulator.js";
import { client, SSML_EXAMPLE } from "./helpers.js";

type Page = { value: { id: string }[]; nextLink?: string };

describe("Speech emulator: list paging", () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    for (let i = 1; i <= 5; i++) {
      expect((await client(emulator).put(`my-job-0${i}`, SSML_EXAMPLE)).status).toBe(201);
    }
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("lists newest first with skip and maxpagesize, and an absolute nextLink like the doc's", async () => {
    const response = await client(emulator).list("&skip=1&maxpagesize=2");
    expect(response.status).toBe(200);
    const page = (await response.json()) as Page;
    expect(page.value.map((j) => j.id)).toEqual(["my-job-04", "my-job-03"]);
    expect(page.nextLink).toBe(
      `${emulator.url}/texttospeech/batchsyntheses?skip=3&maxpagesize=2&api-version=2024-04-01`,
    );
  });

  it("follows nextLink verbatim to the end, where it is absent", async () => {
    const seen: string[] = [];
    let next: string | undefined =
      `${emulator.url}/texttospeech/batchsyntheses?maxpagesize=2&api-version=2024-04-01`;
    while (next) {
      const response = await fetch(next, { headers: { "Ocp-Apim-Subscription-Key": emulator.key } });
      const page = (await response.json()) as Page;
      seen.push(...page.value.map((j) => j.id));
      next = page.nextLink;
    }
    expect(seen).toEqual(["my-job-05", "my-job-04", "my-job-03", "my-job-02", "my-job-01"]);
  });

  it("defaults to pages of up to 100 without nextLink, and caps maxpagesize at 100", async () => {
    const page = (await (await client(emulator).list()).json()) as Page;
    expect(page.value).toHaveLength(5);
    expect(page.nextLink).toBeUndefined();
    expect((await client(emulator).list("&maxpagesize=500")).status).toBe(200);
    expect((await client(emulator).list("&skip=-1")).status).toBe(400);
  });
});

describe("Speech emulator: maxpagesize above 100", () => {
  it("is clamped to 100 (the doc's 'up to 100'), and nextLink carries the clamped size", async () => {
    const emulator = await startTestEmulator({ rateLimit: false });
    try {
      const ids = Array.from({ length: 101 }, (_, i) => `clamp-${String(i).padStart(3, "0")}`);
      for (const id of ids) expect((await client(emulator).put(id, SSML_EXAMPLE)).status).toBe(201);
      const response = await client(emulator).list("&maxpagesize=500");
      expect(response.status).toBe(200);
      const page = (await response.json()) as Page;
      expect(page.value).toHaveLength(100);
      expect(page.nextLink).toBe(
        `${emulator.url}/texttospeech/batchsyntheses?skip=100&maxpagesize=100&api-version=2024-04-01`,
      );
      const rest = (await (
        await fetch(page.nextLink as string, { headers: { "Ocp-Apim-Subscription-Key": emulator.key } })
      ).json()) as Page;
      expect(rest.value.map((j) => j.id)).toEqual(["clamp-000"]);
      expect(rest.nextLink).toBeUndefined();
      expect((await client(emulator).list("&maxpagesize=0")).status).toBe(400);
    } finally {
      await emulator.stop();
    }
  });
});
