/**
 * When an LU request may run synchronously on the event loop. On a 2-core
 * machine, 4 KiB reads served from the page cache reached about 53k IOPS with
 * synchronous pread against about 39k through libuv's thread pool (fio, queue
 * depth 16): the hop to a pool thread and back costs more than the copy.
 * But a request that misses the page cache, or a write that the kernel
 * throttles during writeback, would
 * stall every connection and the control plane while it waits. So a request
 * runs synchronously only while recent synchronous ones were fast: one slower
 * than `syncIoSlowMs` sends its kind of request to the thread pool for
 * `syncIoBackoffMs`, after which synchronous I/O is tried again. The loop is
 * blocked at most about `syncIoSlowMs` plus one slow request per backoff.
 */

/**
 * The largest request run synchronously. 1 MiB requests measured the same
 * either way (the socket, not the copy, bounds them), so they go to the
 * thread pool, where they do not hold the loop.
 */
export const syncIoMaxBytes = 64 * 1024;
/** Slower than this, a synchronous request missed the cache or was throttled. */
export const syncIoSlowMs = 2;
/** How long requests go to the thread pool after a slow synchronous one. */
export const syncIoBackoffMs = 1_000;

export class SyncIoValve {
  private threadPoolUntilMs = 0;
  private readonly enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  allowsSync(lengthBytes: number, nowMs: number): boolean {
    return this.enabled && lengthBytes <= syncIoMaxBytes && nowMs >= this.threadPoolUntilMs;
  }

  /** Records how long a synchronous request took, ending at `nowMs`. */
  record(durationMs: number, nowMs: number): void {
    if (durationMs > syncIoSlowMs) this.threadPoolUntilMs = nowMs + syncIoBackoffMs;
  }
}
