import { randomBytes } from "node:crypto";

/** A unique, lowercase name valid for containers, queues, project ids and task hubs (letters and digits). */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(4).toString("hex")}`.toLowerCase();
}
