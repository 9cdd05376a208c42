import type { BlobServiceClient } from "@azure/storage-blob";

/**
 * The seed book of the benchmarks: 1,432 chapters of about 15,000 characters (CONTRACT §7), generated
 * deterministically on the fly (never committed). Text is English-like prose with paragraphs, dialogue,
 * `&`, `<` and some non-ASCII, so packing, escaping and billing see realistic input.
 */
export const SEED_BOOK_CHAPTERS = 1432;
export const SEED_BOOK_MEAN_CHARS = 15_000;

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "the of and to a in that was he she it his her with as for on at by had not but from they " +
  "you were all this one there which be what would so when their said into out up could them " +
  "sea light tower keeper harbour night morning wind rain storm ship boat rope lamp glass stone " +
  "door stair window letter ledger winter summer island shore rock wave salt silence voice hand " +
  "remembered watched carried opened closed climbed waited turned listened counted wrote answered " +
  "slowly quietly suddenly never always perhaps already almost again still only even"
).split(" ");
const NAMES = ["Maren", "Émile", "Haruki", "Fairlie", "Isobel", "Tomás", "Ngozi", "Søren", "Chloé", "Wen"];
const FLAVOURS = [
  "fish & chips",
  "salt & tar",
  "< half a mile",
  "café",
  "naïve",
  "— or so she thought",
  "灯台",
];

function sentence(random: () => number): string {
  const length = 6 + Math.floor(random() * 18);
  const words: string[] = [];
  for (let i = 0; i < length; i++) {
    const r = random();
    if (r < 0.04) words.push(NAMES[Math.floor(random() * NAMES.length)]!);
    else if (r < 0.05) words.push(FLAVOURS[Math.floor(random() * FLAVOURS.length)]!);
    else words.push(WORDS[Math.floor(random() * WORDS.length)]!);
    if (i > 2 && i < length - 2 && random() < 0.08) words[words.length - 1] += ",";
  }
  const text = words.join(" ");
  const body = text.charAt(0).toUpperCase() + text.slice(1);
  const end = random() < 0.1 ? "?" : random() < 0.05 ? "!" : ".";
  return random() < 0.15 ? `“${body}${end}” said ${NAMES[Math.floor(random() * NAMES.length)]}.` : body + end;
}

/** Chapter length: roughly normal around 15,000 characters, between 4,000 and 28,000. */
function chapterLength(random: () => number): number {
  const normal = (random() + random() + random() + random() - 2) / 0.577; // ~N(0,1)
  return Math.round(Math.min(28_000, Math.max(4_000, SEED_BOOK_MEAN_CHARS + normal * 3_500)));
}

export interface SeedChapter {
  /** File name, natural order: chapter-1.txt … chapter-1432.txt. */
  name: string;
  text: string;
}

/** Chapter `index` (0-based) of the seed book; the same index always gives the same text. */
export function seedChapter(index: number): SeedChapter {
  const random = prng(0x5eed + index * 7919);
  const target = chapterLength(random);
  const paragraphs: string[] = [`Chapter ${index + 1}`];
  let size = paragraphs[0]!.length;
  while (size < target) {
    const sentences: string[] = [];
    const count = 3 + Math.floor(random() * 6);
    for (let i = 0; i < count; i++) sentences.push(sentence(random));
    const paragraph = sentences.join(" ");
    paragraphs.push(paragraph);
    size += paragraph.length + 2;
  }
  return {
    name: `chapter-${index + 1}.txt`,
    text: paragraphs.join("\n\n").slice(0, target).trimEnd() + "\n",
  };
}

/** Uploads the first `count` chapters of the seed book to `{container}/{projectId}/`; returns their characters. */
export async function uploadSeedBook(
  blobService: BlobServiceClient,
  options: { containerName: string; projectId: string; count: number; concurrency?: number },
): Promise<{ chapters: number; characters: number; bytes: number }> {
  const container = blobService.getContainerClient(options.containerName);
  await container.createIfNotExists();
  let next = 0;
  let characters = 0;
  let bytes = 0;
  const worker = async () => {
    for (let i = next++; i < options.count; i = next++) {
      const chapter = seedChapter(i);
      const data = Buffer.from(chapter.text, "utf8");
      characters += chapter.text.length;
      bytes += data.length;
      await container.getBlockBlobClient(`${options.projectId}/${chapter.name}`).uploadData(data, {
        blobHTTPHeaders: { blobContentType: "text/plain; charset=utf-8" },
      });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  return { chapters: options.count, characters, bytes };
}
