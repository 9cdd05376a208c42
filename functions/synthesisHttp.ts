import { app } from "@azure/functions";
import * as df from "durable-functions";
import { guarded } from "../src/http/errors.js";
import { cancelSynthesis, getSynthesisStatus, startSynthesis } from "../src/http/synthesis.js";
import { getPipelineDeps } from "../src/pipeline/runtime.js";

/** HTTP API (CONTRACT §3): thin handlers over src/http; every route has function-level auth. */
const SYNTHESIS_ROUTE = "projects/{projectId}/synthesis";

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
