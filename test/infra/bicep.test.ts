import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settingsSchema } from "../../src/config/settings.js";
import { type BicepRun, build, findBicepCli, lint, repoRoot } from "./bicepCli.js";

/*
 * infra/ checked by the real Bicep compiler: every .bicep file builds and lints with no error and no
 * linter warning, and the compiled ARM JSON of main.bicep holds what issue 5 requires (identity only,
 * Flex Consumption, Node 20, the app's roles, every app setting). Without a Bicep CLI (a machine
 * without .NET) the suite says that it SKIPPED these checks, and passes.
 */

const discovery = findBicepCli();
const cli = discovery.cli;
const SKIP_MESSAGE = cli
  ? ""
  : `SKIPPED the Bicep compile and lint of infra/ and the ARM JSON checks: ${discovery.skipReason}. ` +
    "Run `bash infra/tools/restore-bicep.sh` (needs the .NET SDK) or set BICEP_CLI to enable them.";

const infraDir = join(repoRoot, "infra");
const bicepFiles = (function list(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name.startsWith(".") || entry.name === "tools" ? [] : list(path);
    return entry.name.endsWith(".bicep") ? [relative(repoRoot, path)] : [];
  });
})(infraDir);

const failures = (runs: BicepRun[]): string[] =>
  runs.flatMap((run) => [
    ...run.diagnostics.map((d) => d.line),
    ...(run.status === 0 ? [] : [`exit code ${run.status}: ${run.output.trim().slice(0, 2000)}`]),
  ]);

describe("Bicep CLI discovery", () => {
  it("finds a Bicep CLI, or says clearly that the Bicep checks are skipped", (context) => {
    if (!cli) {
      console.warn(`\n*** ${SKIP_MESSAGE}\n`);
      context.skip(SKIP_MESSAGE);
    }
    console.log(`Bicep CLI: ${cli!.command} (${cli!.source})`);
  });

  it("reports a skip (not a failure) when no CLI can be found", () => {
    const none = findBicepCli({ ...process.env, TTS_SKIP_BICEP_DISCOVERY: "1" });
    expect(none.cli).toBeUndefined();
    expect(none).toMatchObject({ skipReason: expect.stringContaining("TTS_SKIP_BICEP_DISCOVERY") });
  });

  it("refuses a BICEP_CLI that does not exist instead of skipping silently", () => {
    expect(() => findBicepCli({ BICEP_CLI: join(tmpdir(), "no-such-bicep") })).toThrow(/BICEP_CLI/);
  });
});

describe.skipIf(!cli)("infra/ with the Bicep compiler", () => {
  let outDir = "";
  let probeDir = "";
  let buildRuns: BicepRun[] = [];
  let lintRuns: BicepRun[] = [];
  let probeRuns: BicepRun[] = [];
  let main: ArmTemplate;

  // The three CLI runs (build all, lint all, lint a file with a known warning) go in parallel:
  // each is mostly the CLI's own start-up.
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), "bicep-out-"));
    probeDir = mkdtempSync(join(tmpdir(), "bicep-lint-"));
    mkdirSync(join(probeDir, "infra"));
    cpSync(join(infraDir, "bicepconfig.json"), join(probeDir, "infra", "bicepconfig.json"));
    writeFileSync(join(probeDir, "infra", "unused.bicep"), "param notUsed string\n");
    [buildRuns, lintRuns, probeRuns] = await Promise.all([
      build(cli!, bicepFiles, repoRoot, outDir),
      lint(cli!, bicepFiles, repoRoot),
      lint(cli!, ["infra/unused.bicep"], probeDir),
    ]);
    // When the build fails, the build test reports why; the ARM tests then fail on an empty template.
    const compiled = join(outDir, "main.json");
    main = existsSync(compiled)
      ? (JSON.parse(readFileSync(compiled, "utf8")) as ArmTemplate)
      : { resources: [] };
  });
  afterAll(() => {
    for (const dir of [outDir, probeDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("has the azd layout: main.bicep, main.parameters.json, local modules by concern", () => {
    expect(bicepFiles).toEqual(expect.arrayContaining(["infra/main.bicep"]));
    for (const concern of [
      "identity",
      "storage",
      "monitoring",
      "speech",
      "functionApp",
      "roleAssignments",
      "durableTaskScheduler",
    ]) {
      expect(bicepFiles).toContain(`infra/modules/${concern}.bicep`);
    }
    for (const file of bicepFiles) {
      expect(readFileSync(join(repoRoot, file), "utf8"), file).not.toMatch(/br\/public:|br:/);
    }
    const parameters = readFileSync(join(infraDir, "main.parameters.json"), "utf8");
    for (const variable of ["AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_PRINCIPAL_ID"]) {
      expect(parameters).toContain(`"$\{${variable}}"`);
    }
    const azureYaml = readFileSync(join(repoRoot, "azure.yaml"), "utf8");
    expect(azureYaml).toMatch(/^\s+language:\s*ts\s*$/m);
    expect(azureYaml).toMatch(/^\s+host:\s*function\s*$/m);
  });

  it("builds every .bicep file with no error and no warning", () => {
    expect(failures(buildRuns)).toEqual([]);
    for (const file of bicepFiles) {
      const compiled = join(outDir, relative("infra", file).replace(/\.bicep$/, ".json"));
      expect(() => JSON.parse(readFileSync(compiled, "utf8")), compiled).not.toThrow();
    }
  });

  it("lints every .bicep file with no error and no linter warning", () => {
    expect(failures(lintRuns)).toEqual([]);
  });

  it("would fail on a linter warning (the check is not blind)", () => {
    expect(probeRuns.flatMap((run) => run.diagnostics)).toContainEqual(
      expect.objectContaining({ level: "Warning", code: "no-unused-params" }),
    );
  });

  describe("compiled ARM JSON of main.bicep", () => {
    it("holds no secret: no account keys, listKeys(), connection strings, SAS or Speech key", () => {
      const text = JSON.stringify(main);
      expect(text).not.toMatch(/AccountKey=/i);
      expect(text).not.toMatch(/listKeys\s*\(/i);
      expect(text).not.toMatch(/DefaultEndpointsProtocol=/i);
      expect(text).not.toMatch(/SharedAccessSignature|[?&]sig=/i);
      expect(text).not.toMatch(/SPEECH_KEY/);
      expect(text).not.toMatch(/securestring|secureObject/i);
      const names = Object.keys(appSettings(main).values);
      expect(names).not.toContain("AzureWebJobsStorage");
      // The Application Insights connection string is the only *_CONNECTION_STRING: it names the
      // ingestion endpoint, and with DisableLocalAuth (checked below) it grants nothing.
      expect(names.filter((name) => /CONNECTION_STRING|ConnectionString/i.test(name))).toEqual([
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
      ]);
      for (const output of Object.keys(main.outputs ?? {}))
        expect(output).not.toMatch(/KEY|SECRET|PASSWORD/i);
    });

    it("storage: shared key access off, TLS 1.2, HTTPS only, no public blob access", () => {
      const [account] = resourcesOfType(main, "Microsoft.Storage/storageAccounts");
      expect(account?.resource.properties).toMatchObject({
        allowSharedKeyAccess: false,
        minimumTlsVersion: "TLS1_2",
        supportsHttpsTrafficOnly: true,
        allowBlobPublicAccess: false,
      });
    });

    it("storage: the chapters, audio, work and deployment containers and the video-requests queue", () => {
      const containers = resourcesOfType(
        main,
        "Microsoft.Storage/storageAccounts/blobServices/containers",
      ).map((found) => lastSegment(resolveValue(found.resource.name, found)));
      expect(containers).toEqual(expect.arrayContaining(["chapters", "audio", "tts-work"]));
      // Flex Consumption deploys from the container the storage module creates.
      const deploymentContainer = resolveModuleOutput(
        moduleParameter(main, "functionApp", "deploymentContainerName"),
        main,
      );
      expect(deploymentContainer).toMatch(/^\[format\('app-package-/);
      expect(containers).toContain(deploymentContainer);
      const queues = resourcesOfType(main, "Microsoft.Storage/storageAccounts/queueServices/queues").map(
        (found) => lastSegment(resolveValue(found.resource.name, found)),
      );
      expect(queues).toEqual(["video-requests"]);
    });

    it("function app: Flex Consumption (FC1), Node 22, runs as the user-assigned identity, HTTPS only", () => {
      const [plan] = resourcesOfType(main, "Microsoft.Web/serverfarms");
      expect(plan?.resource.sku).toEqual({ name: "FC1", tier: "FlexConsumption" });
      expect(plan?.resource.properties).toMatchObject({ reserved: true });

      const [site] = resourcesOfType(main, "Microsoft.Web/sites");
      expect(site).toBeDefined();
      const app = site!.resource;
      expect(app.kind).toBe("functionapp,linux");
      expect(app.properties).toMatchObject({ httpsOnly: true, siteConfig: { minTlsVersion: "1.2" } });
      expect(app.identity?.type).toBe("UserAssigned");
      const identityKeys = Object.keys(app.identity?.userAssignedIdentities ?? {});
      expect(identityKeys).toHaveLength(1);
      expect(resolveValue(identityKeys[0], site!)).toMatch(/deployments', 'identity'\).*outputs\.id\.value/);

      const config = app.properties.functionAppConfig;
      expect(config.runtime.name).toBe("node");
      // Node 20 reached end of life on 2026-04-30; the official azd template deploys Node 22.
      expect(resolveValue(config.runtime.version, site!)).toBe("22");
      expect(config.deployment.storage.type).toBe("blobContainer");
      expect(config.deployment.storage.authentication.type).toBe("UserAssignedIdentity");
      expect(
        resolveValue(config.deployment.storage.authentication.userAssignedIdentityResourceId, site!),
      ).toMatch(/outputs\.id\.value/);
      expect(config.scaleAndConcurrency).toMatchObject({
        maximumInstanceCount: expect.anything(),
        instanceMemoryMB: expect.anything(),
      });
      expect(app.tags).toBeDefined();
      expect(JSON.stringify(app.tags)).toContain("azd-service-name");
    });

    it("app settings: identity-based storage and telemetry, AZURE_CLIENT_ID, no key", () => {
      const [config] = resourcesOfType(main, "Microsoft.Web/sites/config");
      expect(resolveValue(config?.resource.name, config!)).toBe("appsettings");
      expect(config?.resource.properties).toBe(
        "[union(parameters('appSettings'), parameters('durableSettings'))]",
      );
      const { values } = appSettings(main);
      expect(values.AzureWebJobsStorage__accountName).toMatch(
        /deployments', 'storage'\).*outputs\.name\.value/,
      );
      expect(values.AzureWebJobsStorage__credential).toBe("managedidentity");
      expect(values.AzureWebJobsStorage__clientId).toMatch(/'identity'\).*outputs\.clientId\.value/);
      expect(values.AZURE_CLIENT_ID).toMatch(/'identity'\).*outputs\.clientId\.value/);
      expect(values.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toMatch(
        /^\[format\('ClientId=\{0\};Authorization=AAD', .*'identity'\).*outputs\.clientId\.value\)\]$/,
      );
      expect(values.SPEECH_ENDPOINT).toMatch(/deployments', 'speech'\).*outputs\.endpoint\.value/);
      const speech = moduleTemplate(main, "speech");
      // The endpoint the resource reports (sovereign clouds have other host names).
      expect(speech.outputs?.endpoint?.value).toMatch(
        /^\[reference\(resourceId\('Microsoft\.CognitiveServices\/accounts', parameters\('name'\)\).*\)\.endpoint\]$/,
      );
      // Realtime with Entra ID: the regional endpoint and the resource id for aad#{id}#{token} (CONTRACT §8).
      expect(values.SPEECH_RESOURCE_ID).toMatch(/deployments', 'speech'\).*outputs\.id\.value/);
      expect(values.SPEECH_REGION).toMatch(/deployments', 'speech'\).*outputs\.location\.value/);
      expect(values.SPEECH_REALTIME_ENDPOINT).toMatch(
        /deployments', 'speech'\).*outputs\.realtimeEndpoint\.value/,
      );
      expect(speech.outputs?.realtimeEndpoint?.value).toMatch(
        /^\[format\('https:\/\/\{0\}\.tts\.speech\.microsoft\.com'/,
      );
      expect(JSON.stringify(speech.outputs)).not.toContain("/tts'");
    });

    it("app settings cover CONTRACT §5 and every setting the app needs, with the contract's defaults", () => {
      const { values, resolved } = appSettings(main);
      const schemaNames = Object.keys(settingsSchema.shape);
      // The contract's names exist in the app's schema (neither side renamed one).
      expect(schemaNames).toEqual(expect.arrayContaining([...CONTRACT_SECTION_5]));

      // Settings with a schema default beyond §5 (pipeline tuning) may be left to the code default;
      // every §5 setting and every setting without a default must be set, unless NOT_SET_ON_AZURE says why.
      const placeholders = { AzureWebJobsStorage__accountName: "x", SPEECH_REGION: "x" };
      const parsedDefaults = settingsSchema.parse(placeholders);
      const defaults = Object.fromEntries(
        Object.entries(parsedDefaults).filter(([name]) => !(name in placeholders)),
      ) as Partial<typeof parsedDefaults>;
      const required = schemaNames.filter(
        (name) =>
          !(name in NOT_SET_ON_AZURE) &&
          ((CONTRACT_SECTION_5 as readonly string[]).includes(name) || !(name in defaults)),
      );
      const missing = required.filter((name) => !(name in values));
      expect(
        missing,
        "settings that infra/main.bicep does not set: add them to the functionApp appSettings in " +
          "infra/main.bicep, or to NOT_SET_ON_AZURE in test/infra/bicep.test.ts with a reason",
      ).toEqual([]);
      for (const name of Object.keys(NOT_SET_ON_AZURE)) expect(values, name).not.toHaveProperty(name);
      // Nothing set that the app does not read (a typo would otherwise go unnoticed).
      const unknown = Object.keys(values).filter(
        (name) => !schemaNames.includes(name) && !HOST_SETTINGS.includes(name),
      );
      expect(unknown, "app settings that neither settingsSchema nor the Functions host reads").toEqual([]);

      // Literal and parameter-default values parse to exactly the app's own defaults.
      const literal = Object.fromEntries(
        Object.entries(resolved).filter(
          ([name, value]) => name in defaults && !String(value).startsWith("["),
        ),
      );
      const parsed = settingsSchema.parse({ ...literal, ...placeholders });
      for (const name of CONTRACT_SECTION_5) {
        if (!(name in defaults)) continue;
        expect(name in literal, `${name} resolves to a literal default`).toBe(true);
        expect(parsed[name as keyof typeof parsed], name).toEqual(defaults[name as keyof typeof defaults]);
      }
    });

    it("Speech: its own location, restricted to regions with batch synthesis and Flex Consumption", () => {
      const parameters = (main.parameters ?? {}) as Record<
        string,
        { defaultValue?: unknown; allowedValues?: string[] } | undefined
      >;
      const speechLocation = parameters.speechLocation ?? {};
      expect(speechLocation.defaultValue).toBe("[parameters('location')]");
      const allowed = speechLocation.allowedValues ?? [];
      const appRegions = parameters.location?.allowedValues ?? [];
      // regions.md (Text to speech tab): no Batch synthesis API in these regions.
      for (const region of ["canadaeast", "italynorth", "japanwest", "switzerlandwest", "ukwest", "westus3"])
        expect(allowed).not.toContain(region);
      for (const region of ["eastus", "eastus2", "westeurope", "swedencentral", "southeastasia"])
        expect(allowed).toContain(region);
      expect(allowed).toEqual(appRegions);
      expect(allowed).not.toContain("westus3"); // Flex Consumption yes, batch synthesis no
      expect(moduleParameters(main, "speech").location?.value).toBe("[parameters('speechLocation')]");
    });

    it("Speech: SpeechServices S0 with a custom subdomain and local auth off", () => {
      const [speech] = resourcesOfType(main, "Microsoft.CognitiveServices/accounts");
      expect(speech?.resource).toMatchObject({ kind: "SpeechServices", sku: { name: expect.anything() } });
      expect(resolveValue(speech!.resource.sku.name, speech!)).toBe("S0");
      expect(speech!.resource.properties.disableLocalAuth).toBe(true);
      expect(speech!.resource.properties.customSubDomainName).toBeTruthy();
    });

    it("monitoring: Log Analytics and Application Insights with local auth off", () => {
      const [workspace] = resourcesOfType(main, "Microsoft.OperationalInsights/workspaces");
      expect(workspace).toBeDefined();
      const [insights] = resourcesOfType(main, "Microsoft.Insights/components");
      expect(insights?.resource.properties).toMatchObject({ DisableLocalAuth: true });
      expect(insights?.resource.properties.WorkspaceResourceId).toBeTruthy();
    });

    it("roles: each data role the app needs, on the right scope, for the app identity and the deploying user", () => {
      for (const moduleName of ["appRoles", "userRoles"]) {
        const template = moduleTemplate(main, moduleName);
        const assignments = template.resources.filter(
          (r) => r.type === "Microsoft.Authorization/roleAssignments",
        );
        expect(assignments, moduleName).toHaveLength(REQUIRED_ROLES.length);
        for (const role of REQUIRED_ROLES) {
          const found = assignments.filter(
            (a) => a.properties.roleDefinitionId === roleDefinitionId(role.id),
          );
          expect(found, `${moduleName}: ${role.name}`).toHaveLength(1);
          expect(found[0]!.scope, `${moduleName}: ${role.name} scope`).toMatch(
            new RegExp(`^\\[resourceId\\('${role.scope.replace("/", "\\/")}', parameters\\('\\w+'\\)\\)\\]$`),
          );
          expect(found[0]!.properties.principalId).toBe("[parameters('principalId')]");
          // Named from the principal id (official template's rbac.bicep): a recreated identity gets new names.
          expect(found[0]!.name, `${moduleName}: ${role.name} name`).toMatch(
            new RegExp(`^\\[guid\\(resourceId\\(.*\\), parameters\\('principalId'\\), '${role.id}'\\)\\]$`),
          );
        }
      }
      const app = moduleParameters(main, "appRoles");
      expect(app.principalId?.value).toMatch(/deployments', 'identity'\).*outputs\.principalId\.value/);
      expect(app.principalType?.value).toBe("ServicePrincipal");
      const user = deployment(main, "userRoles");
      expect(user.condition).toBe("[not(empty(parameters('principalId')))]");
      expect(moduleParameters(main, "userRoles").principalId?.value).toBe("[parameters('principalId')]");
      // The role scopes name the resources main.bicep creates.
      for (const [parameter, module] of [
        ["storageAccountName", "storage"],
        ["applicationInsightsName", "monitoring"],
        ["speechName", "speech"],
      ] as const) {
        const scopeName = resolveValue(moduleParameter(main, "appRoles", parameter), {
          template: main,
          chain: [],
        });
        const created = resolveValue(
          moduleParameter(main, module, module === "monitoring" ? "applicationInsightsName" : "name"),
          { template: main, chain: [] },
        );
        expect(scopeName, parameter).toBe(created);
      }
    });

    it("Durable backend: Azure Storage by default; an optional Durable Task Scheduler reached by identity", () => {
      expect(main.parameters?.durableBackend?.defaultValue).toBe("azureStorage");
      const dts = deployment(main, "durableTaskScheduler");
      expect(dts.condition).toBe("[variables('useDurableTaskScheduler')]");
      expect(main.variables?.useDurableTaskScheduler).toBe(
        "[equals(parameters('durableBackend'), 'durableTaskScheduler')]",
      );
      const assignments = moduleTemplate(main, "durableTaskScheduler").resources.filter(
        (r) => r.type === "Microsoft.Authorization/roleAssignments",
      );
      expect(assignments.map((a) => a.properties.roleDefinitionId)).toEqual([
        roleDefinitionId(DURABLE_TASK_DATA_CONTRIBUTOR),
        roleDefinitionId(DURABLE_TASK_DATA_CONTRIBUTOR),
      ]);
      for (const assignment of assignments) {
        expect(assignment.scope).toBe("[resourceId('Microsoft.DurableTask/schedulers', parameters('name'))]");
      }
      const settings = String(moduleParameters(main, "functionApp").durableSettings);
      expect(settings).toMatch(/^\[if\(variables\('useDurableTaskScheduler'\)/);
      expect(settings).toContain("Endpoint={0};Authentication=ManagedIdentity;ClientID={1}");
      expect(settings).toContain(
        "'AzureFunctionsJobHost__extensions__durableTask__storageProvider__type', 'azureManaged'",
      );
      expect(settings).toContain("createObject('value', createObject())");
    });

    it("outputs what azd and docs/deploy.md use", () => {
      expect(Object.keys(main.outputs ?? {})).toEqual(
        expect.arrayContaining([
          "AZURE_LOCATION",
          "AZURE_TENANT_ID",
          "AZURE_RESOURCE_GROUP",
          "AZURE_FUNCTION_APP_NAME",
          "SERVICE_API_NAME",
          "SERVICE_API_URI",
          "SERVICE_API_ENDPOINTS",
          "AZURE_STORAGE_ACCOUNT_NAME",
          "SPEECH_ENDPOINT",
          "SPEECH_REGION",
          "SPEECH_RESOURCE_ID",
        ]),
      );
    });
  });
});

/** CONTRACT §5: the settings users and the acceptance checks rely on. */
const CONTRACT_SECTION_5 = [
  "AzureWebJobsStorage__accountName",
  "SPEECH_ENDPOINT",
  "SPEECH_REGION",
  "SPEECH_REALTIME_ENDPOINT",
  "CHAPTERS_CONTAINER",
  "AUDIO_CONTAINER",
  "VIDEO_QUEUE",
  "DEFAULT_VOICE",
  "DEFAULT_OUTPUT_FORMAT",
  "SYNTHESIS_MODE",
  "MAX_CHAPTERS_PER_JOB",
  "MAX_JOB_PAYLOAD_BYTES",
  "MAX_CONCURRENT_JOBS",
  "MAX_CHAPTER_ATTEMPTS",
  "PRICE_PER_MILLION_CHARACTERS",
] as const;

/** Settings of settingsSchema that the deployment deliberately leaves unset, and why. */
const NOT_SET_ON_AZURE: Record<string, string> = {
  AzureWebJobsStorage: "a connection string (holds the account key): the identity-based __accountName is set",
  AzureWebJobsStorage__blobServiceUri: "alternative to __accountName (sovereign clouds, custom endpoints)",
  AzureWebJobsStorage__queueServiceUri: "alternative to __accountName (sovereign clouds, custom endpoints)",
  SPEECH_KEY: "Speech local (key) auth is off; the app uses Microsoft Entra ID",
};

/** App settings read by the Functions host rather than by the app's settingsSchema. */
const HOST_SETTINGS = [
  "AzureWebJobsStorage__credential",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
];

const REQUIRED_ROLES = [
  {
    name: "Storage Blob Data Owner",
    id: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    scope: "Microsoft.Storage/storageAccounts",
  },
  {
    name: "Storage Queue Data Contributor",
    id: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    scope: "Microsoft.Storage/storageAccounts",
  },
  {
    name: "Storage Table Data Contributor",
    id: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    scope: "Microsoft.Storage/storageAccounts",
  },
  {
    name: "Monitoring Metrics Publisher",
    id: "3913510d-42f4-4e42-8a64-420c390055eb",
    scope: "Microsoft.Insights/components",
  },
  {
    name: "Cognitive Services Speech User",
    id: "f2dc8367-1007-4938-bd23-fe263f013447",
    scope: "Microsoft.CognitiveServices/accounts",
  },
] as const;

const DURABLE_TASK_DATA_CONTRIBUTOR = "0ad04412-c4d5-4796-b79c-f76d14c8d402";

const roleDefinitionId = (id: string) =>
  `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${id}')]`;

// ---- A small reader of compiled ARM JSON: nested module deployments and their parameters. ----

// biome-ignore lint/suspicious/noExplicitAny: ARM resource bodies are free-form JSON.
type ArmResource = { type: string; name: string; condition?: string; scope?: string; [key: string]: any };
interface ArmTemplate {
  parameters?: Record<string, { defaultValue?: unknown }>;
  variables?: Record<string, unknown>;
  resources: ArmResource[];
  outputs?: Record<string, { value: unknown }>;
}
/** A template and the module deployments that lead to it (outermost first). */
interface Context {
  template: ArmTemplate;
  chain: { deployment: ArmResource; parent: Context }[];
}
interface Found extends Context {
  resource: ArmResource;
}

function asList(resources: ArmTemplate["resources"] | Record<string, ArmResource>): ArmResource[] {
  return Array.isArray(resources) ? resources : Object.values(resources);
}

function allResources(context: Context): Found[] {
  return asList(context.template.resources).flatMap((resource) => {
    const here: Found = { ...context, resource };
    if (resource.type !== "Microsoft.Resources/deployments" || !resource.properties?.template) return [here];
    const inner: Context = {
      template: resource.properties.template as ArmTemplate,
      chain: [...context.chain, { deployment: resource, parent: context }],
    };
    return [here, ...allResources(inner)];
  });
}

function resourcesOfType(template: ArmTemplate, type: string): Found[] {
  return allResources({ template, chain: [] }).filter((found) => found.resource.type === type);
}

function deployment(template: ArmTemplate, name: string): ArmResource {
  const found = asList(template.resources).find(
    (r) => r.type === "Microsoft.Resources/deployments" && r.name === name,
  );
  if (!found) throw new Error(`no module deployment named ${name}`);
  return found;
}
const moduleTemplate = (template: ArmTemplate, name: string) =>
  deployment(template, name).properties.template as ArmTemplate;
const moduleParameters = (template: ArmTemplate, name: string) =>
  deployment(template, name).properties.parameters as Record<string, { value: unknown }>;
const moduleParameter = (template: ArmTemplate, name: string, parameter: string) =>
  moduleParameters(template, name)[parameter]?.value;

/**
 * Resolves the expressions that are known before deployment: `[parameters('x')]` (through the module
 * chain, down to main.bicep's defaults), `[variables('x')]` and `[string(parameters('x'))]`.
 * Anything else (reference(), format() of runtime values) is returned as written.
 */
function resolveValue(value: unknown, context: Context): unknown {
  if (typeof value !== "string") return value;
  const parameter = /^\[(string\()?parameters\('(\w+)'\)\)?\]$/.exec(value);
  if (parameter) {
    const name = parameter[2]!;
    const resolved = resolveParameter(name, context);
    return parameter[1] && resolved !== undefined ? String(resolved) : resolved;
  }
  const single = /^\[format\('\{0\}', (\w+\('\w+'\))\)\]$/.exec(value);
  if (single) return resolveValue(`[${single[1]}]`, context);
  const variable = /^\[variables\('(\w+)'\)\]$/.exec(value);
  if (variable) return resolveValue(context.template.variables?.[variable[1]!], context);
  const nameOf = /^\[format\('\{0\}\/\{1\}(?:\/\{2\})?', (.+)\)\]$/.exec(value);
  if (nameOf) {
    // Child resource names: format('{0}/{1}/{2}', parameters('account'), 'default', parameters('x'))
    const last = nameOf[1]!
      .split(/,\s*(?![^()]*\))/)
      .pop()!
      .trim();
    return resolveValue(last.startsWith("'") ? last.slice(1, -1) : `[${last}]`, context);
  }
  return value;
}

function resolveParameter(name: string, context: Context): unknown {
  const link = context.chain.at(-1);
  if (link) {
    const passed = link.deployment.properties.parameters?.[name];
    if (passed !== undefined) return resolveValue(passed.value, link.parent);
  }
  return context.template.parameters?.[name]?.defaultValue;
}

function lastSegment(value: unknown): unknown {
  return typeof value === "string" && !value.startsWith("[") ? value.split("/").pop() : value;
}

/** The app settings main.bicep passes to the functionApp module, as written and as resolved. */
function appSettings(template: ArmTemplate): {
  values: Record<string, string>;
  resolved: Record<string, unknown>;
} {
  const values = moduleParameter(template, "functionApp", "appSettings") as Record<string, string>;
  const root: Context = { template, chain: [] };
  const resolved = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      resolveModuleOutput(resolveValue(value, root), template),
    ]),
  );
  return { values, resolved };
}

/** `reference(…'deployments', 'storage'…).outputs.x.value` where module output x is a parameter passed in. */
function resolveModuleOutput(value: unknown, template: ArmTemplate): unknown {
  if (typeof value !== "string") return value;
  const match =
    /^\[reference\(.*'Microsoft\.Resources\/deployments', '(\w+)'\), '[\d-]+'\)\.outputs\.(\w+)\.value\]$/.exec(
      value,
    );
  if (!match) return value;
  const module = deployment(template, match[1]!);
  const output = (module.properties.template as ArmTemplate).outputs?.[match[2]!]?.value;
  if (typeof output !== "string") return value;
  // Outputs such as `chaptersContainer.name` compile to the container's name expression.
  const inner: Context = {
    template: module.properties.template as ArmTemplate,
    chain: [{ deployment: module, parent: { template, chain: [] } }],
  };
  const byParameter = /^\[parameters\('(\w+)'\)\]$/.exec(output);
  if (byParameter) return resolveValue(output, inner);
  return value;
}
