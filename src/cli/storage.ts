import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import { createBlobServiceClient, identityServiceUris } from "../storage/clients.js";

/** Where the chapter files go: the app's own storage account (CONTRACT §2, §5). */
export interface StorageTarget {
  blobService: BlobServiceClient;
  /** How the account was reached, safe to print (never the connection string). */
  description: string;
}

/** Settings read from `local.settings.json` when the environment has none (as `func start` would). */
export function localSettingsValues(cwd: string): Record<string, string> {
  const file = join(cwd, "local.settings.json");
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { Values?: Record<string, unknown> };
    return Object.fromEntries(
      Object.entries(parsed.Values ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
  } catch {
    return {};
  }
}

function accountNameOf(connectionString: string): string {
  if (/UseDevelopmentStorage=true/i.test(connectionString)) return "devstoreaccount1 (Azurite)";
  return /AccountName=([^;]+)/i.exec(connectionString)?.[1] ?? "account from connection string";
}

/**
 * Resolves the storage account like the Functions host does: `AzureWebJobsStorage` (connection string),
 * or identity-based `AzureWebJobsStorage__accountName` / `__blobServiceUri` with `DefaultAzureCredential`
 * (`__clientId` picks a user-assigned identity). Falls back to `local.settings.json`, then, for a local
 * API only, to Azurite's development storage.
 */
export function resolveStorage(
  env: NodeJS.ProcessEnv = process.env,
  options: { cwd?: string; allowDevelopmentStorage?: boolean } = {},
): StorageTarget {
  const values = { ...localSettingsValues(options.cwd ?? process.cwd()), ...definedOnly(env) };
  const connectionString = values["AzureWebJobsStorage"];
  if (connectionString) {
    return { blobService: createBlobServiceClient(values), description: accountNameOf(connectionString) };
  }
  const { blob } = identityServiceUris(values);
  if (blob) return { blobService: createBlobServiceClient(values), description: `${blob} (Entra ID)` };
  if (options.allowDevelopmentStorage) {
    return {
      blobService: BlobServiceClient.fromConnectionString("UseDevelopmentStorage=true"),
      description: "devstoreaccount1 (Azurite, default ports)",
    };
  }
  throw new Error(
    "No storage configured: set AzureWebJobsStorage (connection string) or AzureWebJobsStorage__accountName (Microsoft Entra ID).",
  );
}

/**
 * The Speech settings for `compare` and `pronounce try`: as given (env, `local.settings.json`), else, for a
 * local API only, the Speech emulator `npm start` runs (`EMULATOR_PORT`, default 7090; key `EMULATOR_KEY`,
 * default `local-dev-key`), just as storage falls back to Azurite there.
 */
export function withLocalSpeech(
  values: Record<string, string | undefined>,
  localApi: boolean,
): Record<string, string | undefined> {
  if (!localApi || values["SPEECH_ENDPOINT"] || values["SPEECH_REGION"]) return values;
  const url = `http://127.0.0.1:${values["EMULATOR_PORT"] || 7090}`;
  return {
    ...values,
    SPEECH_ENDPOINT: url,
    SPEECH_REALTIME_ENDPOINT: values["SPEECH_REALTIME_ENDPOINT"] || url,
    SPEECH_KEY: values["SPEECH_KEY"] || values["EMULATOR_KEY"] || "local-dev-key",
  };
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""),
  );
}

/** Chapters container name (CONTRACT §5 `CHAPTERS_CONTAINER`). */
export function chaptersContainerName(env: NodeJS.ProcessEnv = process.env): string {
  return env["CHAPTERS_CONTAINER"] || "chapters";
}

/** Audio container name (CONTRACT §5 `AUDIO_CONTAINER`). */
export function audioContainerName(env: NodeJS.ProcessEnv = process.env): string {
  return env["AUDIO_CONTAINER"] || "audio";
}
