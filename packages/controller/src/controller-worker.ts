/**
 * Entry point of the controller's worker thread (controller-thread.ts): serves
 * the controller here, says where, and stops when told. Nothing but these
 * messages crosses the thread boundary; the protocol itself goes over gRPC.
 */
import { parentPort, workerData } from "node:worker_threads";
import { quietIpServerNameWarning } from "@switchyard/security";
import { serveController, type ServeControllerOptions } from "./controller-serve.js";
import type { ThreadMessage } from "./controller-thread.js";

function isServeControllerOptions(value: unknown): value is ServeControllerOptions {
  return typeof value === "object" && value !== null && "deviceAddress" in value && "host" in value && "grpcPort" in value;
}

async function main(): Promise<void> {
  quietIpServerNameWarning();
  const port = parentPort;
  if (port === null) throw new Error("controller-worker.js runs only as a worker thread");
  const options: unknown = workerData;
  if (!isServeControllerOptions(options)) throw new Error("controller-worker.js was started without controller options");
  const tell = (message: ThreadMessage): void => {
    port.postMessage(message);
  };
  try {
    const served = await serveController(options, (address) => {
      tell({ kind: "leader", address });
    });
    port.once("message", () => {
      void served.close().then(() => {
        tell({ kind: "closed" });
        port.close();
      });
    });
    tell({ kind: "ready", address: served.address });
  } catch (error: unknown) {
    tell({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
    port.close();
  }
}

await main();
