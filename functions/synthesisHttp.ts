import { app, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { errorResponse } from "../src/http/errors.js";
import { estimateProject } from "../src/http/estimate.js";
import { cancelSynthesis, getSynthesisStatus, startSynthesis } from "../src/http/synthesis.js";
import { getPipelineDeps } from "../src/pipeline/runtime.js";

/** HTTP API (CONTRACT §3): thin handlers over src/http; every route has function-level auth. */
const SYNTHESIS_ROUTE = "projects/{projectId}/synthesis";

function guarded(
  handler: (
    request: HttpRequest,
    context: InvocationContext,
  ) => Promise<import("@azure/functions").HttpResponseInit>,
) {
  return async (request: HttpRequest, context: InvocationContext) => {
    try {
      return await handler(request, context);
    } catch (error) {
      context.error(`Unhandled error: ${error instanceof Error ? error.message : String(error)}`);
      return errorResponse(500, "internal-error", "The request could not be completed.");
    }
  };
}

app.http("StartSynthesis", {
  route: SYNTHESIS_ROUTE,
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: guarded((request, context) => startSynthesis(getPipelineDeps(), df.getClient(context), request)),
});

app.http("GetSynthesisStatus", {
  route: SYNTHESIS_ROUTE,
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: guarded((request, context) =>
    getSynthesisStatus(getPipelineDeps(), df.getClient(context), request),
  ),
});

app.http("CancelSynthesis", {
  route: SYNTHESIS_ROUTE,
  methods: ["DELETE"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: guarded((request, context) => cancelSynthesis(getPipelineDeps(), df.getClient(context), request)),
});

app.http("EstimateProject", {
  route: "projects/{projectId}/estimate",
  methods: ["GET"],
  authLevel: "function",
  handler: guarded((request) => estimateProject(getPipelineDeps(), request)),
});
