import { app } from "@azure/functions";
import { guarded } from "../src/http/errors.js";
import { estimateProject } from "../src/http/estimate.js";
import { getPipelineDeps } from "../src/pipeline/runtime.js";

/** `GET /api/projects/{projectId}/estimate` (CONTRACT §3): a dry run, nothing sent to Speech. */
app.http("EstimateProject", {
  route: "projects/{projectId}/estimate",
  methods: ["GET"],
  authLevel: "function",
  handler: guarded((request) => estimateProject(getPipelineDeps(), request)),
});
