import { app } from "@azure/functions";
import * as df from "durable-functions";
import { guarded } from "../src/http/errors.js";
import {
  getChapterSubtitles,
  getManifest,
  getProgress,
  getProjects,
  streamChapterAudio,
} from "../src/http/projects.js";
import { getPipelineDeps } from "../src/pipeline/runtime.js";

/** Project reads (CONTRACT §8, docs/dashboard.md): thin handlers over src/http/projects.ts; function-level auth. */
app.http("ListProjects", {
  route: "projects",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: guarded((_request, context) => getProjects(getPipelineDeps(), df.getClient(context))),
});

app.http("GetProjectManifest", {
  route: "projects/{projectId}/manifest",
  methods: ["GET"],
  authLevel: "function",
  handler: guarded((request) => getManifest(getPipelineDeps(), request)),
});

app.http("GetProjectProgress", {
  route: "projects/{projectId}/progress",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: guarded((request, context) => getProgress(getPipelineDeps(), df.getClient(context), request)),
});

app.http("GetChapterAudio", {
  route: "projects/{projectId}/chapters/{chapterId}/audio",
  methods: ["GET", "HEAD"],
  authLevel: "function",
  handler: guarded((request) => streamChapterAudio(getPipelineDeps(), request)),
});

app.http("GetChapterSubtitles", {
  route: "projects/{projectId}/chapters/{chapterId}/subtitles",
  methods: ["GET"],
  authLevel: "function",
  handler: guarded((request) => getChapterSubtitles(getPipelineDeps(), request)),
});
