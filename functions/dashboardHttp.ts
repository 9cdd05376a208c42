import { app } from "@azure/functions";
import { getDashboardAsset, getProjectPage, getProjectsPage } from "../src/http/dashboard.js";
import { guarded } from "../src/http/errors.js";

/** Dashboard pages (CONTRACT §8, docs/dashboard.md): function-level auth like the API. */
app.http("DashboardProjects", {
  route: "dashboard",
  methods: ["GET"],
  authLevel: "function",
  handler: guarded((request) => getProjectsPage(request)),
});

app.http("DashboardProject", {
  route: "dashboard/{projectId}",
  methods: ["GET"],
  authLevel: "function",
  handler: guarded((request) => getProjectPage(request)),
});

// Static script and style only (no data): anonymous, so `<script src>` and `<link href>` load without
// carrying the function key in their URLs.
app.http("DashboardAsset", {
  route: "dashboard/assets/{name}",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: guarded((request) => getDashboardAsset(request)),
});
