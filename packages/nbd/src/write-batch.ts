/**
 * Output batching shared by the NBD server and client: every message produced
 * in one turn of the event loop leaves in one socket write (a writev when it
 * holds separate data buffers), and small headers are carved out of a slab
 * instead of allocating a Buffer each.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";

/**
 * Size of one slab of small messages (headers). Big enough that a full queue
 * of replies (128 × 16 bytes) fits many times over; small enough that one
 * slab kept alive by a slow socket write costs little.
 */
const headerSlabBytes = 64 * 1024;

/**
 * Queues messages for one socket and writes them together at the end of the
 * current event-loop turn (setImmediate: after every I/O callback of this
 * turn, so completions from many sockets and disk reads coalesce).
 */
export class WriteBatch {
  /** Current header slab; `reserve` returns offsets into it. */
  slab: Buffer = Buffer.allocUnsafe(headerSlabBytes);
  /** Start of the region of `slab` not yet queued for writing. */
  private pendingStart = 0;
  private pendingEnd = 0;
  private readonly queued: Buffer[] = [];
  /** For each queued buffer, what to call once the socket has taken it (undefined: nothing). */
  private readonly whenWritten: (((error?: Error | null) => void) | undefined)[] = [];
  private flushScheduled = false;
  private readonly flushBound = (): void => {
    this.flush();
  };

  constructor(private readonly socket: Socket) {}

  /**
   * Reserves `byteCount` contiguous bytes of `this.slab` for the caller to
   * fill now, and queues them. Returns the offset of the region.
   */
  reserve(byteCount: number): number {
    assert.ok(byteCount > 0 && byteCount <= headerSlabBytes);
    if (this.pendingEnd + byteCount > headerSlabBytes) {
      this.queuePendingRegion();
      this.slab = Buffer.allocUnsafe(headerSlabBytes);
      this.pendingStart = 0;
      this.pendingEnd = 0;
    }
    const offset = this.pendingEnd;
    this.pendingEnd += byteCount;
    this.scheduleFlush();
    return offset;
  }

  /**
   * Queues a buffer the caller will not touch again (data, a whole message);
   * `whenWritten` hears when the socket no longer needs it, so that it can be
   * used again. It is not called for a socket destroyed before the write.
   */
  push(buffer: Buffer, whenWritten?: (error?: Error | null) => void): void {
    this.queuePendingRegion();
    this.queued.push(buffer);
    this.whenWritten.push(whenWritten);
    this.scheduleFlush();
  }

  /** Writes everything queued now; a no-op when nothing is. */
  flush(): void {
    this.flushScheduled = false;
    this.queuePendingRegion();
    const count = this.queued.length;
    if (count === 0) return;
    if (this.socket.destroyed) {
      this.queued.length = 0;
      this.whenWritten.length = 0;
      return;
    }
    if (count === 1) {
      this.socket.write(this.queued[0] as Buffer, this.whenWritten[0]);
    } else {
      // Corked writes leave in one writev, without concatenating data.
      this.socket.cork();
      this.queued.forEach((buffer, index) => this.socket.write(buffer, this.whenWritten[index]));
      this.socket.uncork();
    }
    this.queued.length = 0;
    this.whenWritten.length = 0;
  }

  private queuePendingRegion(): void {
    if (this.pendingEnd === this.pendingStart) return;
    this.queued.push(this.slab.subarray(this.pendingStart, this.pendingEnd));
    this.whenWritten.push(undefined);
    this.pendingStart = this.pendingEnd;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushBound);
  }
}
