/**
 * The chunks an LU's allocation scans read into (logical-unit.ts
 * allocation), reused: a fresh mebibyte per scan was external memory that
 * V8 answered with a full mark-compact every few calls, a sixth of the
 * event loop during nbdcopy out, whose block status of 256 MiB starts a
 * scan per extent at once (apparatus io-path.ts).
 */
import assert from "node:assert/strict";

/**
 * Chunks an LU has for scans; a scan past this many waits for one (FIFO).
 * Eight keep the thread pool's four threads busy with 1 MiB reads and cost
 * 8 MiB per LU.
 */
export const scanChunksMax = 8;

export class ScanChunks {
  /** Idle chunks; with the ones in use, at most scanChunksMax. */
  private readonly idle: Buffer[] = [];
  private count = 0;
  /**
   * Scans waiting for a chunk, oldest first. Bounded by the scans callers
   * start: NBD requests in flight times the parts of each.
   */
  private readonly waiters: ((chunk: Buffer) => void)[] = [];

  constructor(private readonly chunkBytes: number) {}

  take(): Promise<Buffer> {
    const idle = this.idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.count < scanChunksMax) {
      this.count += 1;
      return Promise.resolve(Buffer.allocUnsafe(this.chunkBytes));
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Gives a chunk back (or a fresh one in its place): to the oldest scan waiting, else to the idle ones. */
  give(chunk: Buffer): void {
    assert.ok(chunk.length === this.chunkBytes && this.idle.length < this.count);
    const waiter = this.waiters.shift();
    if (waiter === undefined) this.idle.push(chunk);
    else waiter(chunk);
  }
}
