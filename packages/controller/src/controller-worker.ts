/**
 * Entry point of the controller's worker thread (controller-thread.ts): waits
 * for its options, serves the controller here, says where, and stops when
 * told. Nothing but these messages crosses the thread boundary; the protocol
 * itself goes over gRPC.
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { quietIpServerNameWarning } from "@switchyard/security";
import { serveController, type ServeControllerOptions } from "./controller-serve.js";
import type { ParentMessage, ThreadMessage } from "./controller-thread.js";

function isParentMessage(value: unknown): value is ParentMessage {
  return typeof value === "object" && value !== null && "kind" in value;
}

function isServeControllerOptions(value: unknown): value is ServeControllerOptions {
  return typeof value === "object" && value !== null && "deviceAddress" in value && "host" in value && "grpcPort" in value;
}

/** The options of the parent's first message: it spawns this thread before it knows them (prepareController). */
function optionsFrom(port: MessagePort): Promise<ServeControllerOptions> {
  return new Promise((resolve, reject) => {
    port.once("message", (message: unknown) => {
      if (isParentMessage(message) && message.kind === "start" && isServeControllerOptions(message.options)) resolve(message.options);
      else reject(new Error("controller-worker.js was sent no controller options before anything else"));
    });
  });
}

async function main(): Promise<void> {
  quietIpServerNameWarning();
  const port = parentPort;
  if (port === null) throw new Error("controller-worker.js runs only as a worker thread");
  const tell = (message: ThreadMessage): void => {
    port.postMessage(message);
  };
  try {
    const options = await optionsFrom(port);
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
