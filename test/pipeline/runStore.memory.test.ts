import { createMemoryRunStore } from "../../src/pipeline/memoryRunStore.js";
import { runStoreContract } from "./runStoreContract.js";

// The in-memory run store against the same contract as the Blob store (runStore.blob.test.ts): no Azurite.
runStoreContract("in memory", () => createMemoryRunStore());
