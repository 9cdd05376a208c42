import { type ProjectFile, projectFileSchema } from "../options.js";
import { PROJECT_FILE_NAME } from "./chapters.js";
import { PlanError } from "./planError.js";

/** project.json's bytes as options, or a {@link PlanError} `invalid-project-file` naming the bad values. */
export function parseProjectFile(bytes: Uint8Array): ProjectFile {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new PlanError("invalid-project-file", `${PROJECT_FILE_NAME} is not valid JSON.`);
  }
  const parsed = projectFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PlanError(
      "invalid-project-file",
      `${PROJECT_FILE_NAME} has invalid values.`,
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return parsed.data;
}
