/**
 * Buffers kept for reuse, per size, by a server for all its connections: WRITE payloads that
 * arrive across several socket chunks, and READ replies (reply-writer.ts).
 * Allocating one per request made a sequential 1 MiB write stream spend
 * about a seventh of its time in the garbage collector; carving 4 KiB read
 * replies out of fresh 1 MiB slabs made V8 run a full mark-compact every
 * 150 ms or so (each new slab is external memory), a sixth of the event
 * loop at 26k random reads a second. A buffer goes back once its user is
 * done with it: exports never keep a payload after their promise settles
 * (NbdExport), and a read reply is done once the socket has sent it.
 */
import assert from "node:assert/strict";

/**
 * Bytes of idle buffers one pool keeps. A server's pools are shared by its
 * connections (ServerBuffers): four connections of 64 requests of 256 KiB
 * (nbdcopy's defaults), or four queue-depth-16 rounds of 1 MiB.
 */
export const payloadPoolBytesMax = 64 * 1024 * 1024;

/** What a pool keeps: a buffer, or an object around one that is reused with it. */
export interface Pooled {
  readonly byteLength: number;
}

export class PayloadPool<Item extends Pooled = Buffer> {
  private readonly idleBySize = new Map<number, Item[]>();
  private idleBytes = 0;

  /** `create` makes an item of `byteLength` bytes when none of that size is idle. */
  constructor(private readonly create: (byteLength: number) => Item) {}

  take(byteLength: number): Item {
    const reused = this.idleBySize.get(byteLength)?.pop();
    if (reused === undefined) return this.create(byteLength);
    this.idleBytes -= byteLength;
    return reused;
  }

  give(item: Item): void {
    if (this.idleBytes + item.byteLength > payloadPoolBytesMax) return;
    let idle = this.idleBySize.get(item.byteLength);
    if (idle === undefined) {
      idle = [];
      this.idleBySize.set(item.byteLength, idle);
    }
    assert.ok(!idle.includes(item), "a pooled buffer was given back twice");
    idle.push(item);
    this.idleBytes += item.byteLength;
  }
}

/** A pool of plain buffers, for WRITE payloads. */
export function bufferPool(): PayloadPool {
  return new PayloadPool((byteLength) => Buffer.allocUnsafe(byteLength));
}
