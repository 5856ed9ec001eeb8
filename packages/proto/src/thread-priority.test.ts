// Goal: a control thread lowers its own priority and nothing else's: the
// worker that calls lowerThisThreadPriority is 10 nice steps below where it
// was, as the kernel reports it (/proc/thread-self/stat), while the thread
// that started it keeps its own; a thread already niced goes further down,
// capped at 19, never back up.
// Method: real worker threads running the built module, reading their nice
// value from /proc before and after.
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { controlThreadNiceSteps, currentThreadId } from "./thread-priority.js";

/** Field 19 of a task's stat: its nice value (fields after the command's closing parenthesis start at field 3). */
function niceOf(statText: string): number {
  const fields = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
  return Number(fields[19 - 3]);
}

interface WorkerReport {
  readonly threadId: number | undefined;
  readonly before: number;
  readonly returned: number | undefined;
  readonly after: number;
}

/** Runs lowerThisThreadPriority on a new thread, first set to `startNice` when given. */
async function lowerOnWorker(startNice?: number): Promise<WorkerReport> {
  const moduleUrl = new URL("../dist/thread-priority.js", import.meta.url).href;
  const source = `
    const { parentPort } = require("node:worker_threads");
    const { readFileSync } = require("node:fs");
    const { setPriority } = require("node:os");
    const nice = (text) => Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[16]);
    import(${JSON.stringify(moduleUrl)}).then((module) => {
      const threadId = module.currentThreadId();
      if (${startNice === undefined ? "false" : "true"}) setPriority(threadId, ${startNice ?? 0});
      const before = nice(readFileSync("/proc/thread-self/stat", "utf8"));
      const returned = module.lowerThisThreadPriority();
      const after = nice(readFileSync("/proc/thread-self/stat", "utf8"));
      parentPort.postMessage({ threadId, before, returned, after });
    });
  `;
  const worker = new Worker(source, { eval: true });
  try {
    return await new Promise<WorkerReport>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

describe("lowerThisThreadPriority", () => {
  it("lowers the calling thread by controlThreadNiceSteps, and only it", async () => {
    const mainBefore = niceOf(readFileSync("/proc/thread-self/stat", "utf8"));
    const report = await lowerOnWorker();
    expect(report.threadId).toBeDefined();
    expect(report.threadId).not.toBe(currentThreadId());
    expect(report.after).toBe(Math.min(19, report.before + controlThreadNiceSteps));
    expect(report.returned).toBe(report.after);
    expect(report.after).toBeGreaterThan(report.before);
    expect(niceOf(readFileSync("/proc/thread-self/stat", "utf8"))).toBe(mainBefore);
  });

  it("goes further down from a thread already niced, capped at 19, never up", async () => {
    const report = await lowerOnWorker(15);
    expect(report.before).toBe(15);
    expect(report.after).toBe(19);
    const atFloor = await lowerOnWorker(19);
    expect(atFloor.after).toBe(19);
  });

  it("names the thread it runs on", () => {
    const threadId = currentThreadId();
    // The test's own thread: vitest's worker thread or the process's main thread, a task of this process either way.
    expect(readFileSync(`/proc/${process.pid}/task/${threadId}/stat`, "utf8")).toContain(`${threadId} (`);
  });
});
