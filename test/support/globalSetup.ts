import type { TestProject } from "vitest/node";
import { startAzurite } from "../../tools/shared/azurite.js";
import { buildApp } from "./build.js";

declare module "vitest" {
  export interface ProvidedContext {
    azuriteConnectionString: string;
  }
}

/** Builds the app once, then one Azurite for the whole suite; tests isolate themselves with unique container, queue and hub names. */
export default async function setup(project: TestProject) {
  // The local host loads the compiled app (package.json main = dist/functions/*.js): build it once, up front,
  // instead of letting test files race to rewrite dist/ while another one loads it.
  await buildApp();
  const azurite = await startAzurite();
  project.provide("azuriteConnectionString", azurite.connectionString);
  return async () => {
    await azurite.stop();
  };
}
