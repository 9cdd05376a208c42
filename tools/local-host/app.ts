import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import {
  AppRegistry,
  getProgrammingModel,
  HostStartupError,
  loadInto,
  type RegisteredFunction,
} from "./core-api.js";
import type { HostLogger } from "./logger.js";

const hostJsonSchema = z.looseObject({
  extensions: z
    .looseObject({
      http: z.looseObject({ routePrefix: z.string().optional() }).optional(),
      queues: z.looseObject({ messageEncoding: z.enum(["base64", "none"]).optional() }).optional(),
      durableTask: z
        .looseObject({
          hubName: z.string().optional(),
          maxConcurrentActivityFunctions: z.number().int().positive().optional(),
          maxConcurrentOrchestratorFunctions: z.number().int().positive().optional(),
          storageProvider: z
            .looseObject({ controlQueueBatchSize: z.number().int().positive().optional() })
            .optional(),
        })
        .optional(),
    })
    .optional(),
});
export type HostJson = z.infer<typeof hostJsonSchema>;

const localSettingsSchema = z.looseObject({ Values: z.record(z.string(), z.unknown()).optional() });
const packageJsonSchema = z.looseObject({ main: z.string().optional() });

/** Binding types the local host implements; anything else is a start-up error naming the function. */
const supportedTriggers = new Set(["httptrigger", "orchestrationtrigger", "activitytrigger", "queuetrigger"]);
const supportedInputs = new Set(["durableclient", "orchestrationclient", "blob"]);
const supportedOutputs = new Set(["http", "queue", "blob"]);

export function readHostJson(appDir: string): HostJson {
  const file = path.join(appDir, "host.json");
  if (!existsSync(file)) return {};
  return hostJsonSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

/** `local.settings.json` Values as strings (absent file: none). */
export function readLocalSettings(appDir: string): Record<string, string> {
  const file = path.join(appDir, "local.settings.json");
  if (!existsSync(file)) return {};
  const values = localSettingsSchema.parse(JSON.parse(readFileSync(file, "utf8"))).Values ?? {};
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
}

/** Expands package.json `main` (a file or a glob with `*` / `**`) to files, sorted. */
export function resolveEntryPoints(appDir: string): string[] {
  const pkgFile = path.join(appDir, "package.json");
  if (!existsSync(pkgFile)) throw new HostStartupError("ERR_NO_ENTRY_POINT", `No package.json in ${appDir}.`);
  const main = packageJsonSchema.parse(JSON.parse(readFileSync(pkgFile, "utf8"))).main ?? "index.js";
  const segments = main.split(/[\\/]/).filter((s) => s !== "" && s !== ".");
  const files = expand(appDir, segments).sort();
  if (files.length === 0) {
    throw new HostStartupError(
      "ERR_NO_ENTRY_POINT",
      `package.json main "${main}" matches no file in ${appDir}.`,
    );
  }
  return files;
}

function expand(dir: string, segments: string[]): string[] {
  const [head, ...rest] = segments;
  if (head === undefined) return existsSync(dir) && statSync(dir).isFile() ? [dir] : [];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  if (head === "**") {
    const here = expand(dir, rest);
    const deeper = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== "node_modules")
      .flatMap((e) => expand(path.join(dir, e.name), segments));
    return [...here, ...deeper];
  }
  if (!head.includes("*")) return expand(path.join(dir, head), rest);
  const pattern = new RegExp(`^${head.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return readdirSync(dir)
    .filter((name) => pattern.test(name))
    .flatMap((name) => expand(path.join(dir, name), rest));
}

let loadCounter = 0;

/** Loads the app's entry points with `@azure/functions-core` provided, and checks every binding. */
export async function loadApp(appDir: string, logger: HostLogger): Promise<AppRegistry> {
  const registry = new AppRegistry();
  const entries = resolveEntryPoints(appDir);
  const generation = ++loadCounter;
  await loadInto(
    registry,
    (level, _category, message) => logger.function("worker", level, "system", message),
    async () => {
      for (const file of entries) {
        // A query makes a second host in the same process evaluate the entry points again.
        const url = pathToFileURL(file);
        if (generation > 1) url.searchParams.set("localHost", String(generation));
        await import(url.href);
      }
    },
  );
  for (const fn of registry.functions.values()) validateBindings(fn);
  registry.locked = true;
  // Like the worker after indexing: this locks app.setup(); HTTP streaming would need the worker's HTTP proxy.
  const capabilities = (await getProgrammingModel().getCapabilities?.({})) ?? {};
  if (capabilities.HttpUri) {
    throw new HostStartupError(
      "ERR_BINDING_UNSUPPORTED",
      "The app enables HTTP streams (app.setup({ enableHttpStream: true })), which the local host does not support.",
    );
  }
  return registry;
}

function validateBindings(fn: RegisteredFunction): void {
  for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
    const type = binding.type.toLowerCase();
    const isTrigger = name === fn.triggerName;
    const known = isTrigger
      ? supportedTriggers.has(type)
      : binding.direction === "in"
        ? supportedInputs.has(type)
        : supportedOutputs.has(type);
    if (!known) {
      const role = isTrigger ? "trigger" : binding.direction === "in" ? "input binding" : "output binding";
      throw new HostStartupError(
        "ERR_BINDING_UNSUPPORTED",
        `Function "${fn.name}" uses the ${role} type "${binding.type}" (binding "${name}"), which the local host does not support. ` +
          `Supported triggers: ${[...supportedTriggers].join(", ")}; inputs: ${[...supportedInputs].join(", ")}; outputs: ${[...supportedOutputs].join(", ")}.`,
      );
    }
  }
}
