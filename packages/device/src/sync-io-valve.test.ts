// Goal: the valve lets small requests run synchronously only while they are
// fast, and sends them to the thread pool for a while after a slow one.
// Method: drive it with made-up durations and clock values.
import { describe, expect, it } from "vitest";
import { SyncIoValve, syncIoBackoffMs, syncIoMaxBytes, syncIoSlowMs } from "./sync-io-valve.js";

describe("SyncIoValve", () => {
  it("allows small requests, not large ones, and none when disabled", () => {
    const valve = new SyncIoValve(true);
    expect(valve.allowsSync(4096, 0)).toBe(true);
    expect(valve.allowsSync(syncIoMaxBytes, 0)).toBe(true);
    expect(valve.allowsSync(syncIoMaxBytes + 1, 0)).toBe(false);
    expect(new SyncIoValve(false).allowsSync(4096, 0)).toBe(false);
  });

  it("backs off to the thread pool after a slow request, then tries again", () => {
    const valve = new SyncIoValve(true);
    valve.record(syncIoSlowMs / 2, 100);
    expect(valve.allowsSync(4096, 101)).toBe(true);
    valve.record(syncIoSlowMs * 5, 200);
    expect(valve.allowsSync(4096, 201)).toBe(false);
    expect(valve.allowsSync(4096, 200 + syncIoBackoffMs - 1)).toBe(false);
    expect(valve.allowsSync(4096, 200 + syncIoBackoffMs)).toBe(true);
  });
});
