/**
 * Where the change-control loop runs (claims 10-11): on a worker thread of
 * its own, the default, so that a long change computation never delays the
 * apparatuses' configuration-management loops and host I/O on the main
 * thread; or on the caller's thread ("shared"). Either way it talks to the
 * apparatuses only with the protocol's gRPC messages.
 */
import { Worker } from "node:worker_threads";
import { serveController, type ServeControllerOptions, type ServedController } from "./controller-serve.js";

export type ControllerThreadMode = "worker" | "shared";

/** A closing controller thread gets this long to stop its lease renewals and gRPC server before it is terminated. */
export const threadStopTimeoutMs = 5_000;

/** What the worker tells its parent; the parent sends nothing but a request to stop. */
export type ThreadMessage =
  | { readonly kind: "ready"; readonly address: string }
  | { readonly kind: "failed"; readonly message: string }
  | { readonly kind: "closed" };

function isThreadMessage(value: unknown): value is ThreadMessage {
  return typeof value === "object" && value !== null && "kind" in value;
}

export function startController(options: ServeControllerOptions, mode: ControllerThreadMode): Promise<ServedController> {
  return mode === "worker" ? startControllerThread(options) : serveController(options);
}

async function startControllerThread(options: ServeControllerOptions): Promise<ServedController> {
  const worker = new Worker(new URL("./controller-worker.js", import.meta.url), { workerData: options });
  const exited = new Promise<number>((resolve) => {
    worker.once("exit", resolve);
  });
  const address = await new Promise<string>((resolve, reject) => {
    worker.once("message", (message: unknown) => {
      if (isThreadMessage(message) && message.kind === "ready") resolve(message.address);
      else reject(new Error(`the controller thread did not start: ${isThreadMessage(message) && message.kind === "failed" ? message.message : String(message)}`));
    });
    worker.once("error", reject);
    void exited.then((code) => {
      reject(new Error(`the controller thread exited with code ${code} before it served`));
    });
  });
  // A controller that dies later must not die unnoticed: its lease lapses and changes stop.
  worker.on("error", (error: Error) => {
    process.emitWarning(`the controller thread failed: ${error.message}`);
  });
  return {
    address,
    async close() {
      worker.postMessage("close");
      const timer = setTimeout(() => void worker.terminate(), threadStopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
