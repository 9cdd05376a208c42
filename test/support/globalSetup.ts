import type { TestProject } from "vitest/node";
import { startAzurite } from "../../tools/shared/azurite.js";

declare module "vitest" {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}

/** One Azurite for the whole suite; tests isolate themselves with unique container, queue and hub names. */
export default async function setup(project: TestProject) {
  const azurite = await startAzurite();
  project.provide("azuriteConnectionString", azurite.connectionString);
  return async () => {
    await azurite.stop();
  };
}
