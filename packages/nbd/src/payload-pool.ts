/**
 * WRITE payloads that arrive across several socket chunks are assembled in a
 * buffer of their own. Allocating one per request made a sequential 1 MiB
 * write stream spend about a seventh of its time in the garbage collector;
 * a connection's finished payload buffers are kept, per size, for the next
 * WRITE of the same size. Exports never keep a payload after their promise
 * settles (NbdExport), so a buffer is free again when its request completes.
 */
import assert from "node:assert/strict";

/** Bytes of idle payload buffers one connection keeps: two queue-depth-16 rounds of 1 MiB writes. */
export const payloadPoolBytesMax = 32 * 1024 * 1024;

export class PayloadPool {
  private readonly idleBySize = new Map<number, Buffer[]>();
  private idleBytes = 0;

  take(lengthBytes: number): Buffer {
    const reused = this.idleBySize.get(lengthBytes)?.pop();
    if (reused === undefined) return Buffer.allocUnsafe(lengthBytes);
    this.idleBytes -= lengthBytes;
    return reused;
  }

  give(buffer: Buffer): void {
    if (this.idleBytes + buffer.length > payloadPoolBytesMax) return;
    let idle = this.idleBySize.get(buffer.length);
    if (idle === undefined) {
      idle = [];
      this.idleBySize.set(buffer.length, idle);
    }
    assert.ok(!idle.includes(buffer), "a payload buffer was given back twice");
    idle.push(buffer);
    this.idleBytes += buffer.length;
  }
}
