/**
 * When an LU request may run synchronously on the event loop. On a 2-core
 * machine, 4 KiB reads served from the page cache reached about 53k IOPS with
 * synchronous pread against about 39k through libuv's thread pool (fio, queue
 * depth 16): the hop to a pool thread and back costs more than the copy.
 * But a request that misses the page cache, or a write that the kernel
 * throttles during writeback, would
 * stall every connection and the control plane while it waits. So a request
 * runs synchronously only while recent synchronous ones were fast:
 * `syncIoSlowCountMax` requests slower than `syncIoSlowMs` within
 * `syncIoSlowWindowMs` send its kind of request to the thread pool for
 * `syncIoBackoffMs`, after which synchronous I/O is tried again. The loop is
 * blocked at most about `syncIoSlowCountMax` slow requests per backoff.
 *
 * Why several and not one: on a loaded machine a page-cache read is now and
 * then preempted for a few milliseconds, which the clock cannot tell from a
 * cache miss. Tripping on one such read sent 4 KiB random reads to the
 * thread pool most of the time (the handing over took twice the main
 * thread's time of a synchronous read, plus the threads' wake-ups). A real
 * miss or throttled write comes in runs: a disk slower than the page cache
 * makes every request slow, and trips the valve within a few of them.
 */
import assert from "node:assert/strict";

/**
 * The largest request run synchronously when it is not a host's write: a
 * host's read, a piece of a host request split by a mirror, a copy's chunk,
 * a chunk of zeroing, scrubbing or an allocation scan. That covers nbdcopy's 256 KiB
 * writes: handing a write to the pool cost the loop more than its copy into
 * the page cache (importing 512 MiB with nbdcopy, 4 connections: 1.24-1.32 s
 * and 0.89-0.97 s of the process's CPU synchronously, against 1.45-1.63 s
 * and 1.34-1.50 s through the pool). The 1 MiB chunks of copies and of the
 * LU's own loops stay in the pool: they come back to back, and run on the
 * loop they would be the copy work that item 3 of issue 20 keeps off the
 * thread serving hosts (a copy at 1 GiB/s would take a third of it).
 */
export const syncIoMaxBytes = 256 * 1024;
/**
 * The largest host WRITE run synchronously: one NBD WRITE of an LU, not
 * split by a mirror. A host's 1 MiB write is one request per round trip, not
 * a stream of them, and the hand-over to a pool thread and back was on its
 * critical path. A host's READ keeps `syncIoMaxBytes`: there the pool thread's
 * copy out of the page cache runs while the loop sends the previous reply.
 * Measured on one appliance restarted with each build in turn (A B B A A B B
 * A, three fio runs each, 1 MiB at queue depth 4, one connection,
 * 2026-12-07): reads through the pool 3736 MiB/s (median of twelve) against
 * 3098 synchronous; writes synchronous 3801 against 3136 through the pool.
 */
export const hostSyncWriteMaxBytes = 1024 * 1024;
assert.ok(syncIoMaxBytes <= hostSyncWriteMaxBytes);
/** Slower than this, a synchronous request missed the cache or was throttled. */
export const syncIoSlowMs = 2;
/**
 * Slow synchronous requests within `syncIoSlowWindowMs` that send requests
 * to the thread pool: preemptions rarely come three in 100 ms, a slow disk
 * does at once.
 */
export const syncIoSlowCountMax: number = 3;
export const syncIoSlowWindowMs: number = 100;
/** How long requests go to the thread pool after slow synchronous ones. */
export const syncIoBackoffMs = 1_000;
assert.ok(syncIoSlowCountMax >= 1 && syncIoSlowWindowMs < syncIoBackoffMs);

export class SyncIoValve {
  private threadPoolUntilMs = 0;
  /** Slow synchronous requests since `slowWindowStartMs`. */
  private slowCount = 0;
  private slowWindowStartMs = 0;
  private readonly enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** Whether a request of `lengthBytes` may run on the loop now; `maxBytes` is its kind's cap. */
  allowsSync(lengthBytes: number, nowMs: number, maxBytes: number = syncIoMaxBytes): boolean {
    return this.enabled && lengthBytes <= maxBytes && nowMs >= this.threadPoolUntilMs;
  }

  /** Records how long a synchronous request took, ending at `nowMs`. */
  record(durationMs: number, nowMs: number): void {
    if (durationMs <= syncIoSlowMs) return;
    if (nowMs - this.slowWindowStartMs > syncIoSlowWindowMs) {
      this.slowWindowStartMs = nowMs;
      this.slowCount = 0;
    }
    this.slowCount += 1;
    if (this.slowCount < syncIoSlowCountMax) return;
    this.slowCount = 0;
    this.threadPoolUntilMs = nowMs + syncIoBackoffMs;
  }
}
