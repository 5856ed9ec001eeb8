// Goal: the controller's thread runs below host I/O: its nice value is set on
// that thread alone, and the other threads of the process keep theirs.
// Method: lower this test file's own thread (vitest gives each file a process
// of its own) and read every thread's nice value back from the kernel.
import { readdirSync, readlinkSync } from "node:fs";
import { getPriority } from "node:os";
import { describe, expect, it } from "vitest";
import { controllerThreadNice, lowerThreadPriority } from "./thread-priority.js";

describe("lowerThreadPriority", () => {
  it("sets the nice value of the calling thread only", () => {
    expect(process.platform).toBe("linux");
    const threadId = Number(readlinkSync("/proc/thread-self").split("/").at(-1));
    const others = readdirSync("/proc/self/task").map(Number).filter((task) => task !== threadId);
    expect(others.length).toBeGreaterThan(0);
    const before = getPriority(threadId);
    expect(before).toBeLessThan(controllerThreadNice);

    expect(lowerThreadPriority(controllerThreadNice)).toBe(true);

    expect(getPriority(threadId)).toBe(controllerThreadNice);
    expect(others.every((task) => getPriority(task) === before)).toBe(true);
  });
});
