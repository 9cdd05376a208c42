import { randomUUID } from "node:crypto";
import {
  type AppRegistry,
  type CoreInvocationResponse,
  getProgrammingModel,
  type RegisteredFunction,
  type RpcTypedData,
} from "./core-api.js";
import type { HostLogger } from "./logger.js";

export interface InvocationInput {
  name: string;
  data: RpcTypedData | null | undefined;
}

export interface InvocationOutcome {
  response: CoreInvocationResponse;
  /** The `InvocationContext` the user code saw. */
  context: unknown;
}

/**
 * Invokes a registered function the way the Node worker does: the `@azure/functions` invocation model
 * turns RPC-shaped data into real objects, runs pre/post invocation hooks, and shapes the response.
 */
export async function invokeFunction(
  registry: AppRegistry,
  fn: RegisteredFunction,
  inputData: InvocationInput[],
  logger: HostLogger,
  triggerMetadata?: Record<string, RpcTypedData>,
): Promise<InvocationOutcome> {
  const invocationId = randomUUID();
  const coreContext = {
    invocationId,
    request: { invocationId, functionId: fn.name, inputData, triggerMetadata: triggerMetadata ?? {} },
    metadata: fn.metadata,
    state: undefined as string | undefined,
    log(level: string, category: string, message: string) {
      // app.hook.log handlers see (and may change) every log line, as with the worker.
      const hookContext = { hookData: {}, level, category, message, invocationContext: invocationContextRef };
      for (const hook of registry.hooksOf("log")) hook(hookContext);
      logger.function(fn.name, hookContext.level, hookContext.category, hookContext.message);
    },
  };
  let invocationContextRef: unknown;
  const model = getProgrammingModel().getInvocationModel(coreContext);
  const { context, inputs: initialInputs } = await model.getArguments();
  invocationContextRef = context;
  const hookData: Record<string, unknown> = {};
  const pre = { hookData, invocationContext: context, inputs: initialInputs, functionCallback: fn.handler };
  coreContext.state = "preInvocationHooks";
  for (const hook of registry.hooksOf("preInvocation")) await hook(pre);
  coreContext.state = "invocation";
  let result: unknown;
  let error: unknown;
  try {
    result = await model.invokeFunction(context, pre.inputs, pre.functionCallback);
  } catch (caught) {
    error = caught;
  }
  coreContext.state = "postInvocationHooks";
  const post = { hookData, invocationContext: context, inputs: pre.inputs, result, error };
  for (const hook of registry.hooksOf("postInvocation")) await hook(post);
  if (post.error !== undefined) throw post.error;
  const response = await model.getResponse(context, post.result);
  return { response, context };
}

/** The value a binding carries, as `@azure/functions` `fromRpcTypedData` would read it. */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (data.string !== undefined && data.string !== null) {
    try {
      return JSON.parse(data.string);
    } catch {
      return data.string;
    }
  }
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json);
  if (data.bytes !== undefined && data.bytes !== null) return Buffer.from(data.bytes);
  if (data.int !== undefined && data.int !== null) return Number(data.int);
  if (data.double !== undefined && data.double !== null) return data.double;
  return undefined;
}

/** JSON text for a value, `undefined` when there is none. */
export function jsonTyped(value: unknown): RpcTypedData | undefined {
  return value === undefined ? undefined : { json: JSON.stringify(value) };
}
