import type { EmulatorServices, RequestContext } from "../context.js";
import { ErrorFactory } from "../errors.js";
import { parseJsonBody, sendEmpty, sendJson } from "../http.js";
import { faultSchema } from "../middleware/faults.js";

/** `GET /emulator/usage`: what a bill would show (persisted with the state). */
export async function getUsage(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  sendJson(ctx.res, 200, services.store.usage());
}

/** `GET /emulator/downloads[?id=]`: results.zip requests served (ranges, statuses), for tests and the bench. */
export async function getDownloads(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  sendJson(ctx.res, 200, services.downloads.view(ctx.url.searchParams.get("id") ?? undefined));
}

/** `POST /emulator/faults`: queue a fault, e.g. `{ "status": 500, "method": "GET", "count": 2 }`. */
export async function addFault(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  const parsed = faultSchema.safeParse(parseJsonBody(ctx.body));
  if (!parsed.success)
    throw ErrorFactory.badRequest(
      `Invalid fault: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  services.faults.add(parsed.data);
  sendJson(ctx.res, 201, { faults: services.faults.list() });
}

export async function listFaults(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  sendJson(ctx.res, 200, { faults: services.faults.list() });
}

/** `DELETE /emulator/faults`: clear all faults. */
export async function clearFaults(ctx: RequestContext, services: EmulatorServices): Promise<void> {
  services.faults.clear();
  sendEmpty(ctx.res, 204);
}

/** `GET /emulator/health`: liveness for launchers (no auth). */
export async function health(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, { status: "ok" });
}
