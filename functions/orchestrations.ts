import * as df from "durable-functions";
import {
  BATCH_JOB_ORCHESTRATOR,
  PROJECT_ORCHESTRATOR,
  REALTIME_GROUP_ORCHESTRATOR,
} from "../src/pipeline/names.js";
import {
  batchJobOrchestrator,
  projectOrchestrator,
  realtimeGroupOrchestrator,
} from "../src/pipeline/orchestrators.js";

/** The project orchestrator (instance `tts-{projectId}`) and its per-job sub-orchestrators. */
export { BATCH_JOB_ORCHESTRATOR, PROJECT_ORCHESTRATOR, REALTIME_GROUP_ORCHESTRATOR };

df.app.orchestration(PROJECT_ORCHESTRATOR, projectOrchestrator);
df.app.orchestration(BATCH_JOB_ORCHESTRATOR, batchJobOrchestrator);
df.app.orchestration(REALTIME_GROUP_ORCHESTRATOR, realtimeGroupOrchestrator);
