/**
 * The web console's thread (console-thread.ts): runs the console server
 * with a figures source that asks the host I/O thread over a MessagePort.
 */
import assert from "node:assert/strict";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { callerCredentials, quietIpServerNameWarning } from "@switchyard/security";
import { startConsoleServer } from "./console-server.js";
import type { ConsoleThreadReply, ConsoleWorkerData, FiguresReply, FiguresRequest } from "./console-thread.js";
import type { LocalFigures, LocalFiguresSource } from "./local-figures.js";

/** The host I/O thread answers between two host requests; past this it is stuck, and a scrape says so rather than wait. */
export const figuresAnswerTimeoutMs = 5_000;

interface PendingFigures {
  resolve(figures: LocalFigures): void;
  reject(error: Error): void;
  readonly timer: NodeJS.Timeout;
}

/** Figures asked for over `port`, each answered or failed within figuresAnswerTimeoutMs. */
function figuresThrough(port: MessagePort): LocalFiguresSource {
  const pending = new Map<number, PendingFigures>();
  let nextId = 1;
  port.on("message", (reply: FiguresReply) => {
    const waiting = pending.get(reply.id);
    if (waiting === undefined) return;
    pending.delete(reply.id);
    clearTimeout(waiting.timer);
    waiting.resolve(reply.figures);
  });
  port.on("close", () => {
    for (const waiting of pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error("the host I/O thread is gone"));
    }
    pending.clear();
  });
  return () => new Promise<LocalFigures>((resolve, reject) => {
    const id = nextId;
    nextId += 1;
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`the host I/O thread did not give its figures within ${figuresAnswerTimeoutMs} ms`));
    }, figuresAnswerTimeoutMs);
    pending.set(id, { resolve, reject, timer });
    const request: FiguresRequest = { id };
    port.postMessage(request);
  });
}

async function main(): Promise<void> {
  const parent = parentPort;
  assert.ok(parent !== null, "console-worker.js runs as a worker thread (console-thread.ts)");
  quietIpServerNameWarning();
  const data = workerData as ConsoleWorkerData;
  const { credentialsFolder, ...options } = data.options;
  const reply = (message: ConsoleThreadReply): void => { parent.postMessage(message); };
  let server;
  try {
    server = await startConsoleServer({ ...options, credentials: callerCredentials(credentialsFolder), figures: figuresThrough(data.figures) });
  } catch (error: unknown) {
    const code = typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
    data.figures.close();
    reply({ kind: "failed", message: error instanceof Error ? error.message : String(error), code });
    return;
  }
  const serving = server;
  // The one request there is: close (ConsoleThreadRequest).
  parent.once("message", () => {
    void serving.close().finally(() => {
      data.figures.close();
      reply({ kind: "closed" });
    });
  });
  reply({ kind: "listening", address: serving.address, url: serving.url, tokens: serving.tokens });
}

await main();
