// Workers written with Conductor's JavaScript SDK (@io-orkes/conductor-javascript), run by its
// TaskManager as any user runs them: `node worker_fleet.mjs <server api url>`. Prints READY
// once polling, and stops on SIGTERM.
import {
  NonRetryableException,
  TaskManager,
  orkesConductorClient,
} from "@io-orkes/conductor-javascript";

const serverUrl = process.argv[2];
const POLL_MS = 50;
const client = await orkesConductorClient({ serverUrl });

const fleet = [
  {
    taskDefName: "js_greet",
    pollInterval: POLL_MS,
    execute: async (task) => ({
      status: "COMPLETED",
      outputData: { greeting: `Hello, ${task.inputData.name}` },
    }),
  },
  {
    taskDefName: "js_shout",
    pollInterval: POLL_MS,
    execute: async (task) => ({
      status: "COMPLETED",
      outputData: { shouted: String(task.inputData.text).toUpperCase() },
    }),
  },
  {
    taskDefName: "js_flaky",
    pollInterval: POLL_MS,
    execute: async () => {
      throw new Error("flaky worker failed");
    },
  },
  {
    taskDefName: "js_fatal",
    pollInterval: POLL_MS,
    execute: async () => {
      throw new NonRetryableException("this input can never be processed");
    },
  },
  {
    taskDefName: "js_patient",
    pollInterval: POLL_MS,
    // Not done on the first two polls: come back in a second.
    execute: async (task) =>
      task.pollCount < 3
        ? { status: "IN_PROGRESS", callbackAfterSeconds: 1, outputData: { progress: task.pollCount } }
        : { status: "COMPLETED", outputData: { done_after_polls: task.pollCount } },
  },
  {
    taskDefName: "js_routed",
    pollInterval: POLL_MS,
    execute: async () => ({ status: "COMPLETED", outputData: { handled_by: "no domain" } }),
  },
];
const blue = [
  {
    taskDefName: "js_routed",
    domain: "blue",
    pollInterval: POLL_MS,
    execute: async () => ({ status: "COMPLETED", outputData: { handled_by: "blue" } }),
  },
];

const managers = [
  new TaskManager(client, fleet, { options: { workerID: "js-fleet" } }),
  new TaskManager(client, blue, { options: { workerID: "js-blue-worker" } }),
];
for (const manager of managers) manager.startPolling();
console.log("READY");

process.on("SIGTERM", async () => {
  await Promise.all(managers.map((manager) => manager.stopPolling()));
  process.exit(0);
});
