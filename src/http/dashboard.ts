import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { projectPage, projectsPage, readAsset, SECURITY_HEADERS } from "../dashboard/pages.js";
import { projectIdOf } from "./errors.js";

/** The API's base path as the page was reached (`/api` unless the host's route prefix differs). */
function apiBaseOf(request: HttpRequest): string {
  const pathname = new URL(request.url).pathname;
  const at = pathname.toLowerCase().lastIndexOf("/dashboard");
  return at >= 0 ? pathname.slice(0, at) : "/api";
}

function html(body: string): HttpResponseInit {
  return {
    status: 200,
    headers: { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    body,
  };
}

/** `GET /api/dashboard` */
export async function getProjectsPage(request: HttpRequest): Promise<HttpResponseInit> {
  return html(projectsPage(apiBaseOf(request)));
}

/** `GET /api/dashboard/{projectId}` */
export async function getProjectPage(request: HttpRequest): Promise<HttpResponseInit> {
  return html(projectPage(apiBaseOf(request), projectIdOf(request)));
}

/** `GET /api/dashboard/assets/{name}`: the pages' script and style, shipped with the app. */
export async function getDashboardAsset(request: HttpRequest): Promise<HttpResponseInit> {
  const asset = await readAsset(request.params["name"] ?? "");
  if (!asset) return { status: 404, headers: SECURITY_HEADERS };
  return {
    status: 200,
    headers: { ...SECURITY_HEADERS, "content-type": asset.contentType, "cache-control": "no-cache" },
    body: asset.body,
  };
}
