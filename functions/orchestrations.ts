import * as df from "durable-functions";
import {
  BATCH_JOB_ORCHESTRATOR,
  COLLECT_JOB_ORCHESTRATOR,
  PROJECT_ORCHESTRATOR,
  REALTIME_GROUP_ORCHESTRATOR,
  REALTIME_LANE_ORCHESTRATOR,
} from "../src/pipeline/names.js";
import {
  batchJobOrchestrator,
  collectJobOrchestrator,
  projectOrchestrator,
  realtimeGroupOrchestrator,
  realtimeLaneOrchestrator,
} from "../src/pipeline/orchestrators.js";

/** The project orchestrator (instance `tts-{projectId}`), its lanes of job sub-orchestrations and their helpers. */
export {
  BATCH_JOB_ORCHESTRATOR,
  COLLECT_JOB_ORCHESTRATOR,
  PROJECT_ORCHESTRATOR,
  REALTIME_GROUP_ORCHESTRATOR,
  REALTIME_LANE_ORCHESTRATOR,
};

df.app.orchestration(PROJECT_ORCHESTRATOR, projectOrchestrator);
df.app.orchestration(BATCH_JOB_ORCHESTRATOR, batchJobOrchestrator);
df.app.orchestration(COLLECT_JOB_ORCHESTRATOR, collectJobOrchestrator);
df.app.orchestration(REALTIME_GROUP_ORCHESTRATOR, realtimeGroupOrchestrator);
df.app.orchestration(REALTIME_LANE_ORCHESTRATOR, realtimeLaneOrchestrator);
