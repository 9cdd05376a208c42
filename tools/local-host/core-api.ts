import Module from "node:module";

/** Binding as `@azure/functions` describes it to the host (RpcBindingInfo plus the user's options). */
export interface CoreBinding {
  type: string;
  direction: "in" | "out" | "inout";
  [option: string]: unknown;
}

export interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, CoreBinding>;
  [other: string]: unknown;
}

export type CoreHandler = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  name: string;
  metadata: CoreFunctionMetadata;
  handler: CoreHandler;
  /** Name and binding of the trigger. */
  triggerName: string;
  trigger: CoreBinding;
}

export type HookName = "appStart" | "appTerminate" | "preInvocation" | "postInvocation" | "log";
export type HookCallback = (coreContext: unknown) => unknown;

/** What one app registered while it loaded (and hooks registered later). */
export class AppRegistry {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<HookName, Set<HookCallback>>();
  locked = false;

  hooksOf(name: HookName): HookCallback[] {
    return [...(this.hooks.get(name) ?? [])];
  }
}

/** The `@azure/functions` invocation model, as the worker sees it (`ProgrammingModel.getInvocationModel`). */
export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: CoreHandler): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<CoreInvocationResponse>;
}

export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  int?: number;
  double?: number;
  http?: Record<string, unknown>;
  [other: string]: unknown;
}

export interface CoreInvocationResponse {
  invocationId: string;
  outputData?: Array<{ name: string; data: RpcTypedData | null | undefined }>;
  returnValue?: RpcTypedData | null;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: unknown): InvocationModel;
  getCapabilities?(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

export class HostStartupError extends Error {
  constructor(
    readonly code:
      | "ERR_DUPLICATE_FUNCTION"
      | "ERR_BINDING_UNSUPPORTED"
      | "ERR_REGISTRATION_LOCKED"
      | "ERR_NO_ENTRY_POINT"
      | "ERR_NO_PROGRAMMING_MODEL",
    message: string,
  ) {
    super(message);
    this.name = "HostStartupError";
  }
}

class Disposable {
  #callback: (() => void) | undefined;
  constructor(callback: () => void) {
    this.#callback = callback;
  }
  static from(...items: Array<{ dispose(): unknown }>): Disposable {
    return new Disposable(() => {
      for (const item of items) item.dispose();
    });
  }
  dispose(): void {
    this.#callback?.();
    this.#callback = undefined;
  }
}

type SystemLogger = (level: string, category: string, message: string) => void;

// One `@azure/functions` copy per process, so the core module is process-wide like the worker's;
// registrations go to the app being loaded (several hosts may live in one test process).
let programmingModel: ProgrammingModel | undefined;
let loadingRegistry: AppRegistry | undefined;
let lastRegistry: AppRegistry | undefined;
let systemLogger: SystemLogger = () => {};

const coreApi = {
  version: "3.10.1",
  hostVersion: "4.1000.0",
  Disposable,
  setProgrammingModel(model: ProgrammingModel): void {
    programmingModel = model;
  },
  getProgrammingModel(): ProgrammingModel | undefined {
    return programmingModel;
  },
  registerFunction(metadata: CoreFunctionMetadata, handler: CoreHandler): Disposable {
    const registry = loadingRegistry;
    if (!registry || registry.locked) {
      throw new HostStartupError(
        "ERR_REGISTRATION_LOCKED",
        `A function can't be registered after the app has started (function "${metadata.name}").`,
      );
    }
    const key = metadata.name.toLowerCase();
    if (registry.functions.has(key)) {
      throw new HostStartupError(
        "ERR_DUPLICATE_FUNCTION",
        `A function named "${metadata.name}" is already registered.`,
      );
    }
    const triggerEntry = Object.entries(metadata.bindings).find(([, b]) =>
      b.type.toLowerCase().endsWith("trigger"),
    );
    if (!triggerEntry) {
      throw new HostStartupError(
        "ERR_BINDING_UNSUPPORTED",
        `Function "${metadata.name}" has no trigger binding.`,
      );
    }
    registry.functions.set(key, {
      name: metadata.name,
      metadata,
      handler,
      triggerName: triggerEntry[0],
      trigger: triggerEntry[1],
    });
    return new Disposable(() => registry.functions.delete(key));
  },
  registerHook(hookName: HookName, callback: HookCallback): Disposable {
    const registry = loadingRegistry ?? lastRegistry;
    if (!registry)
      throw new HostStartupError(
        "ERR_REGISTRATION_LOCKED",
        `No app is loaded to register a ${hookName} hook.`,
      );
    const set = registry.hooks.get(hookName) ?? new Set<HookCallback>();
    registry.hooks.set(hookName, set);
    set.add(callback);
    return new Disposable(() => set.delete(callback));
  },
  log(level: string, category: string, message: string): void {
    systemLogger(level, category, message);
  },
};

let installed = false;

/** Provides `@azure/functions-core` to every CommonJS `require`, as the Node worker does (setupCoreModule). */
export function installCoreModule(): void {
  if (installed) return;
  installed = true;
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, thisArg, args: unknown[]) {
      if (args[0] === "@azure/functions-core") return coreApi;
      return Reflect.apply(target, thisArg, args);
    },
  });
}

/** Runs `load` with registrations going to `registry`; loads are serialized process-wide. */
let loadChain: Promise<unknown> = Promise.resolve();
export function loadInto<T>(registry: AppRegistry, logger: SystemLogger, load: () => Promise<T>): Promise<T> {
  const run = async () => {
    installCoreModule();
    loadingRegistry = registry;
    systemLogger = logger;
    try {
      return await load();
    } finally {
      loadingRegistry = undefined;
      lastRegistry = registry;
    }
  };
  const result = loadChain.then(run, run);
  loadChain = result.catch(() => undefined);
  return result;
}

export function getProgrammingModel(): ProgrammingModel {
  if (!programmingModel) {
    throw new HostStartupError(
      "ERR_NO_PROGRAMMING_MODEL",
      'The app did not set a programming model: it must use the "@azure/functions" package (v4).',
    );
  }
  return programmingModel;
}
