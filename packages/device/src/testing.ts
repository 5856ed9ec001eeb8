/**
 * Test helpers for this package and its dependents (the "./testing"
 * subpath): temporary folders that are always removed, small devices, and
 * waiting for an NBD server's connections to close.
 */
import fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import os from "node:os";
import path from "node:path";
import { StorageDevice, type DeviceCreateOptions } from "./storage-device.js";
import type { NbdServer } from "./nbd/index.js";

/** How long waitForConnections waits for connections that close in the background. */
const connectionsWaitMs = 2_000;
const connectionsPollMs = 10;

/** Resolves once `server` has `count` connections open; closing ones go in the background. */
export async function waitForConnections(server: NbdServer, count: number): Promise<void> {
  const deadlineMs = performance.now() + connectionsWaitMs;
  while (server.connectionCount !== count) {
    if (performance.now() > deadlineMs) throw new Error(`${server.connectionCount} connections open after ${connectionsWaitMs} ms, not ${count}`);
    await sleep(connectionsPollMs);
  }
}

export interface TemporaryFolder {
  readonly path: string;
  /** Removes the folder and everything in it; safe to call twice. */
  remove(): Promise<void>;
}

export async function temporaryFolder(prefix = "switchyard-test-"): Promise<TemporaryFolder> {
  const folderPath = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return {
    path: folderPath,
    remove: () => fs.rm(folderPath, { recursive: true, force: true }),
  };
}

/** Small enough for unit tests: 2 LUs of 16 areas of 1 MiB, a 1 MiB store slot. */
export const testDeviceCreateOptions: DeviceCreateOptions = {
  deviceId: "test-device",
  luCount: 2,
  luSizeBytes: 16 << 20,
  extentSizeBytes: 1 << 20,
  storeSlotSizeBytes: 1 << 20,
};

/** Creates (or reopens) a device in `dir` with `testDeviceCreateOptions`, changed by `overrides`. */
export function openTestDevice(dir: string, overrides: Partial<DeviceCreateOptions> = {}): Promise<StorageDevice> {
  return StorageDevice.open({ dir, create: { ...testDeviceCreateOptions, ...overrides } });
}

/** A raw NBD peer that sends exact bytes, for spec-level checks of any NBD server (the conformance suite's). */
export { RawPeer, encodeRequest, goData, type RawChunk, type RawOptionReply, type RawRequest } from "./nbd/raw-peer.js";
