import type { ContainerClient } from "@azure/storage-blob";
import { type ProjectFile, projectFileSchema } from "../pipeline/options.js";
import { PROJECT_FILE_NAME } from "../pipeline/planning/chapters.js";

/** `chapters/{projectId}/project.json` as stored: the parsed object (unknown fields kept), or undefined. */
export async function readProjectJson(
  chapters: ContainerClient,
  projectId: string,
): Promise<Record<string, unknown> | undefined> {
  const blob = chapters.getBlobClient(`${projectId}/${PROJECT_FILE_NAME}`);
  let bytes: Buffer;
  try {
    bytes = await blob.downloadToBuffer();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new Error(`${projectId}/${PROJECT_FILE_NAME} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${projectId}/${PROJECT_FILE_NAME} is not a JSON object.`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Merges `changes` into the stored project.json (other fields kept as they are), validates the result with
 * the pipeline's own schema (so a run never meets a file the CLI wrote wrongly) and writes it when it changed.
 */
export async function updateProjectJson(
  chapters: ContainerClient,
  projectId: string,
  changes: Partial<ProjectFile>,
  options: { write: boolean } = { write: true },
): Promise<{
  before: Record<string, unknown> | undefined;
  after: Record<string, unknown>;
  changed: boolean;
}> {
  const before = await readProjectJson(chapters, projectId).catch((error: { statusCode?: number }) => {
    // A missing container is an empty project (a dry run must not create it).
    if (error.statusCode === 404) return undefined;
    throw error;
  });
  const after: Record<string, unknown> = { ...(before ?? {}), ...changes };
  const checked = projectFileSchema.safeParse(after);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`project.json would be invalid: ${problems}`);
  }
  const changed = JSON.stringify(before ?? null) !== JSON.stringify(after);
  if (changed && options.write) {
    await chapters.createIfNotExists();
    const body = Buffer.from(`${JSON.stringify(after, null, 2)}\n`, "utf8");
    await chapters.getBlockBlobClient(`${projectId}/${PROJECT_FILE_NAME}`).uploadData(body, {
      blobHTTPHeaders: { blobContentType: "application/json; charset=utf-8" },
    });
  }
  return { before, after, changed };
}
