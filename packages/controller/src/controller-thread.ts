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

/** What the worker tells its parent. */
export type ThreadMessage =
  | { readonly kind: "ready"; readonly address: string }
  | { readonly kind: "failed"; readonly message: string }
  | { readonly kind: "leader"; readonly address: string }
  | { readonly kind: "closed" };

function isThreadMessage(value: unknown): value is ThreadMessage {
  return typeof value === "object" && value !== null && "kind" in value;
}

/** What the parent sends its controller thread: the options, once known, then a request to stop. */
export type ParentMessage =
  | { readonly kind: "start"; readonly options: ServeControllerOptions }
  | { readonly kind: "close" };

/**
 * A controller candidate whose thread is already loading its modules (about
 * half a second of a process's start) while the process sets up what the
 * options name: its own gRPC server, links and enrollment.
 */
export interface PreparedController {
  /** Serves the candidate; `onLeader` hears who the controller is whenever that changes. Called once. */
  start(options: ServeControllerOptions, onLeader?: (address: string) => void): Promise<ServedController>;
  /** The process will not start it (its start failed): ends the thread. */
  abandon(): Promise<void>;
}

/** In `mode` "worker", spawns the thread now; in "shared", there is nothing to prepare. */
export function prepareController(mode: ControllerThreadMode): PreparedController {
  if (mode === "shared") {
    return { start: (options, onLeader) => serveController(options, onLeader), abandon: () => Promise.resolve() };
  }
  const worker = new Worker(new URL("./controller-worker.js", import.meta.url));
  // Until started, an idle thread must not keep a process that failed to start alive.
  worker.unref();
  const exited = new Promise<number>((resolve) => {
    worker.once("exit", resolve);
  });
  return {
    start: (options, onLeader) => startControllerThread(worker, exited, options, onLeader ?? (() => undefined)),
    abandon: async () => {
      await worker.terminate();
    },
  };
}

async function startControllerThread(worker: Worker, exited: Promise<number>, options: ServeControllerOptions, onLeader: (address: string) => void): Promise<ServedController> {
  worker.ref();
  worker.on("message", (message: unknown) => {
    if (isThreadMessage(message) && message.kind === "leader") onLeader(message.address);
  });
  const address = await new Promise<string>((resolve, reject) => {
    const started = (message: unknown): void => {
      if (!isThreadMessage(message) || message.kind === "leader") return;
      worker.off("message", started);
      if (message.kind === "ready") resolve(message.address);
      else reject(new Error(`the controller thread did not start: ${message.kind === "failed" ? message.message : message.kind}`));
    };
    worker.on("message", started);
    worker.once("error", reject);
    void exited.then((code) => {
      reject(new Error(`the controller thread exited with code ${code} before it served`));
    });
    const start: ParentMessage = { kind: "start", options };
    worker.postMessage(start, options.links?.map((link) => link.port) ?? []);
  });
  // A controller that dies later must not die unnoticed: its lease lapses and changes stop.
  worker.on("error", (error: Error) => {
    process.emitWarning(`the controller thread failed: ${error.message}`);
  });
  return {
    address,
    async close() {
      const close: ParentMessage = { kind: "close" };
      worker.postMessage(close);
      const timer = setTimeout(() => void worker.terminate(), threadStopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
