// Goal: the valve lets small requests run synchronously only while they are
// fast, and sends them to the thread pool for a while after several slow ones
// close together, not after one (a preempted page-cache read).
// Method: drive it with made-up durations and clock values.
import { describe, expect, it } from "vitest";
import { SyncIoValve, hostSyncWriteMaxBytes, syncIoBackoffMs, syncIoMaxBytes, syncIoSlowCountMax, syncIoSlowMs, syncIoSlowWindowMs } from "./sync-io-valve.js";

describe("SyncIoValve", () => {
  it("allows small requests, not large ones, and none when disabled", () => {
    const valve = new SyncIoValve(true);
    expect(valve.allowsSync(4096, 0)).toBe(true);
    expect(valve.allowsSync(syncIoMaxBytes, 0)).toBe(true);
    expect(valve.allowsSync(syncIoMaxBytes + 1, 0)).toBe(false);
    expect(valve.allowsSync(hostSyncWriteMaxBytes, 0, hostSyncWriteMaxBytes)).toBe(true);
    expect(valve.allowsSync(hostSyncWriteMaxBytes + 1, 0, hostSyncWriteMaxBytes)).toBe(false);
    expect(new SyncIoValve(false).allowsSync(4096, 0)).toBe(false);
  });

  it("backs off to the thread pool after slow requests close together, then tries again", () => {
    const valve = new SyncIoValve(true);
    valve.record(syncIoSlowMs / 2, 100);
    expect(valve.allowsSync(4096, 101)).toBe(true);
    for (let count = 1; count < syncIoSlowCountMax; count += 1) {
      valve.record(syncIoSlowMs * 5, 200 + count);
      expect(valve.allowsSync(4096, 201 + count)).toBe(true);
    }
    const trippedMs = 200 + syncIoSlowCountMax;
    valve.record(syncIoSlowMs * 5, trippedMs);
    expect(valve.allowsSync(4096, trippedMs + 1)).toBe(false);
    expect(valve.allowsSync(4096, trippedMs + syncIoBackoffMs - 1)).toBe(false);
    expect(valve.allowsSync(4096, trippedMs + syncIoBackoffMs)).toBe(true);
  });

  it("stays synchronous when slow requests come further apart than the window", () => {
    const valve = new SyncIoValve(true);
    for (let count = 0; count < syncIoSlowCountMax * 3; count += 1) {
      const nowMs = 1_000 + count * (syncIoSlowWindowMs + 1);
      valve.record(syncIoSlowMs * 5, nowMs);
      expect(valve.allowsSync(4096, nowMs + 1)).toBe(true);
    }
  });
});
