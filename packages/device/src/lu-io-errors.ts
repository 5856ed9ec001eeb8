/**
 * What failed on one LU's file: counts of failed reads, writes and
 * fdatasyncs since the device opened, and the last failure's message. A
 * host sees only an errno (EIO, ENOSPC) and its volume; this is where an
 * operator learns which device and which LU the errno came from: the
 * console of the device's process exports the counts on /metrics and lists
 * a rise as an event (packages/console web/metrics.ts, cluster-events.ts).
 *
 * Plain numbers updated in place on the failure path only: a request that
 * succeeds pays nothing.
 */
import assert from "node:assert/strict";
import type { DeviceError } from "./errors.js";

/** What a request was doing when it failed, as /metrics labels it. */
export type LuIoOperation = "read" | "write" | "flush";
export const luIoOperations: readonly LuIoOperation[] = ["read", "write", "flush"];

/** Longest last-failure message kept: enough for the path, the offset and the errno, bounded whatever the cause says. */
export const luIoErrorMessageLengthMax = 400;

export class LuIoErrors {
  readErrors = 0;
  writeErrors = 0;
  flushErrors = 0;
  /** The newest failure's message (device error code first), or "" before any. */
  lastError = "";
  /** When it failed, on the wall clock (ms since the epoch: a controller compares it across restarts), or 0 before any. */
  lastErrorAtMs = 0;

  record(operation: LuIoOperation, error: DeviceError): void {
    if (operation === "read") this.readErrors += 1;
    else if (operation === "write") this.writeErrors += 1;
    else this.flushErrors += 1;
    this.lastError = `${error.code}: ${error.message}`.slice(0, luIoErrorMessageLengthMax);
    this.lastErrorAtMs = Date.now();
    assert.ok(this.total > 0);
  }

  count(operation: LuIoOperation): number {
    if (operation === "read") return this.readErrors;
    if (operation === "write") return this.writeErrors;
    return this.flushErrors;
  }

  get total(): number {
    return this.readErrors + this.writeErrors + this.flushErrors;
  }
}
