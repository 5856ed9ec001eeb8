/**
 * The web console on a thread of its own (issue 20 item 3): its HTTP
 * server, TLS, the page's feed, its calls to the controller and the
 * rendering of /metrics run off the thread that parses, maps and answers
 * host requests. What the console reads of this process (the apparatuses'
 * I/O and hold counters, the devices' error counts) lives on that thread:
 * the console asks for it over a MessagePort and the host I/O thread
 * answers with plain data (local-figures.ts), once per scrape or sample.
 */
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import type { VirtualizationApparatus } from "@switchyard/apparatus";
import type { ControllerThreadMode } from "@switchyard/controller";
import { callerCredentials } from "@switchyard/security";
import { startConsoleServer, type ConsoleServer, type ConsoleServerOptions } from "./console-server.js";
import { figuresHere, takeLocalFigures, type LocalFigures, type MeteredDevice } from "./local-figures.js";

/** What the console's thread is started with: the server's options, its caller's certificate folder instead of credentials. */
export interface ConsoleThreadOptions extends Omit<ConsoleServerOptions, "credentials" | "figures"> {
  /** The identity folder the console calls the controller with; plain gRPC without one. */
  readonly credentialsFolder: string | undefined;
}

/** The worker's workerData. */
export interface ConsoleWorkerData {
  readonly options: ConsoleThreadOptions;
  /** Where it asks for this process's figures. */
  readonly figures: MessagePort;
}

/** From the console's thread to the process. */
export type ConsoleThreadReply =
  | { readonly kind: "listening"; readonly address: string; readonly url: string; readonly tokens: string }
  | { readonly kind: "failed"; readonly message: string; readonly code: string | undefined }
  | { readonly kind: "closed" };

/** From the process to the console's thread. */
export interface ConsoleThreadRequest {
  readonly kind: "close";
}

/** A figures request and its answer, on the figures port. */
export interface FiguresRequest {
  readonly id: number;
}
export interface FiguresReply {
  readonly id: number;
  readonly figures: LocalFigures;
}

/** A closing console thread gets this long to close its server before it is terminated. */
export const consoleThreadStopTimeoutMs = 5_000;

/**
 * The worker script, in the package's build: `dist/web/` seen from either
 * `dist/web/` (the built package) or `src/web/` (tests importing the
 * sources), since a worker thread cannot load TypeScript.
 */
const workerScript = new URL("../../dist/web/console-worker.js", import.meta.url);

/** Answers the console's figure requests on this thread until the port closes. */
function answerFigures(port: MessagePort, figures: () => LocalFigures): void {
  port.on("message", (request: FiguresRequest) => {
    const reply: FiguresReply = { id: request.id, figures: figures() };
    port.postMessage(reply);
  });
  // The console's server keeps the process alive while it serves, not this port.
  port.unref();
}

function failure(reply: Extract<ConsoleThreadReply, { kind: "failed" }>): Error {
  return Object.assign(new Error(reply.message), reply.code === undefined ? {} : { code: reply.code });
}

/** Starts the web console on a thread of its own; `figures` reads this thread's apparatuses and devices. */
export async function startConsoleThread(options: ConsoleThreadOptions, figures: () => LocalFigures): Promise<ConsoleServer> {
  const { port1, port2 } = new MessageChannel();
  answerFigures(port1, figures);
  const data: ConsoleWorkerData = { options, figures: port2 };
  const worker = new Worker(workerScript, { workerData: data, transferList: [port2] });
  const exited = new Promise<number>((resolve) => { worker.once("exit", resolve); });
  let started: Extract<ConsoleThreadReply, { kind: "listening" }>;
  try {
    started = await new Promise((resolve, reject) => {
      worker.once("message", (reply: ConsoleThreadReply) => {
        if (reply.kind === "listening") resolve(reply);
        else reject(reply.kind === "failed" ? failure(reply) : new Error("the web console's thread closed before it listened"));
      });
      worker.once("error", reject);
      void exited.then((code) => { reject(new Error(`the web console's thread exited with code ${code} before it listened`)); });
    });
  } catch (error) {
    // Nothing listens: the thread must not keep the process alive.
    await worker.terminate();
    port1.close();
    throw error;
  }
  // Host I/O goes on without the console: a failure later is said, not thrown on this thread.
  worker.on("error", (error: Error) => { process.emitWarning(`the web console's thread failed: ${error.message}`); });
  return {
    address: started.address,
    url: started.url,
    tokens: started.tokens,
    async close() {
      const closed = new Promise<void>((resolve) => {
        worker.on("message", (reply: ConsoleThreadReply) => { if (reply.kind === "closed") resolve(); });
        void exited.then(() => { resolve(); });
      });
      const request: ConsoleThreadRequest = { kind: "close" };
      worker.postMessage(request);
      const timer = setTimeout(() => void worker.terminate(), consoleThreadStopTimeoutMs);
      await closed;
      clearTimeout(timer);
      await worker.terminate();
      port1.close();
    },
  };
}

/**
 * The web console where `mode` puts control work: on a thread of its own
 * ("worker", the default), or on this one ("shared", `--processors 1`).
 */
export function startWebConsole(mode: ControllerThreadMode, options: ConsoleThreadOptions,
  apparatuses: readonly VirtualizationApparatus[], devices: readonly MeteredDevice[]): Promise<ConsoleServer> {
  if (mode === "worker") return startConsoleThread(options, () => takeLocalFigures(apparatuses, devices));
  const { credentialsFolder, ...here } = options;
  return startConsoleServer({ ...here, credentials: callerCredentials(credentialsFolder), figures: figuresHere(apparatuses, devices) });
}
