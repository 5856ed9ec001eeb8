/**
 * Goal: a stream of big WRITEs is received straight into each payload, not
 * through the staging buffer and a copy; the next header after such a
 * payload is read alone. Small requests that follow are parsed as before.
 * Method: a real server on loopback over a memory export; a RawPeer sends
 * eight 256 KiB WRITEs, then small WRITEs and READs, pipelined, in one
 * socket write. Buffer.prototype.copy is wrapped and copies into a
 * 256 KiB buffer counted: those are payloads the server assembled from its
 * staging buffer (the memory export's own copies go into its 4 MiB store).
 * Without the header read alone, each payload but the first comes almost
 * whole with the header before it, and is copied.
 */
import { afterEach, describe, expect, it } from "vitest";
import { NBD_CMD_READ, NBD_CMD_WRITE } from "./constants.js";
import { MemoryExportProvider } from "./memory-export.js";
import { RawPeer, encodeRequest } from "./raw-peer.js";
import { NbdServer } from "./server.js";

const bigWriteBytes = 256 * 1024;
const bigWriteCount = 8;
const opened: { close(): unknown }[] = [];

/** Undo what a test patched, if it failed before undoing it itself. */
const restores: (() => unknown)[] = [];

afterEach(async () => {
  for (const restore of restores.splice(0)) restore();
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

function pattern(lengthBytes: number, seed: number): Buffer {
  const buffer = Buffer.allocUnsafe(lengthBytes);
  for (let index = 0; index < lengthBytes; index += 1) buffer[index] = (index * 13 + seed) & 0xff;
  return buffer;
}

describe("NbdServer receiving WRITE payloads", () => {
  it("receives pipelined big WRITEs into their payloads, copying at most the first two, and parses the small requests after them", async () => {
    const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: 4 << 20 }]);
    const server = new NbdServer({ provider, port: 0 });
    opened.push(server);
    const { port } = await server.listen();
    const peer = await RawPeer.connect(port);
    opened.push({ close: () => { peer.destroy(); } });
    await peer.handshake("disk");
    let copiedIntoPayloadBytes = 0;
    // Through Reflect: @types/node types Buffer.prototype as any.
    const copy = Reflect.get(Buffer.prototype, "copy") as Buffer["copy"];
    function countingCopy(this: Buffer, target: Uint8Array, targetStart?: number, sourceStart?: number, sourceEnd?: number): number {
      const copied = copy.call(this, target, targetStart, sourceStart, sourceEnd);
      if (target.length === bigWriteBytes) copiedIntoPayloadBytes += copied;
      return copied;
    }
    Reflect.set(Buffer.prototype, "copy", countingCopy);
    restores.push(() => Reflect.set(Buffer.prototype, "copy", copy));
    const bigs = Array.from({ length: bigWriteCount }, (_, index) => pattern(bigWriteBytes, index));
    const small = pattern(4096, 99);
    const requests = [
      ...bigs.map((data, index) => encodeRequest({ command: NBD_CMD_WRITE, handle: index + 1, offsetBytes: index * bigWriteBytes }, data)),
      encodeRequest({ command: NBD_CMD_WRITE, handle: 100, offsetBytes: 3 << 20 }, small),
      encodeRequest({ command: NBD_CMD_READ, handle: 101, offsetBytes: 3 << 20, lengthBytes: 4096 }),
      encodeRequest({ command: NBD_CMD_READ, handle: 102, offsetBytes: 5 * bigWriteBytes, lengthBytes: 4096 }),
    ];
    peer.send(Buffer.concat(requests));
    const replies = new Map<number, Buffer>();
    for (let index = 0; index < bigWriteCount + 3; index += 1) {
      const reply = await peer.readSimpleReply();
      expect(reply.errno).toBe(0);
      replies.set(reply.handle, reply.handle > 100 ? await peer.read(4096) : Buffer.alloc(0));
    }
    for (const restore of restores.splice(0)) restore();
    expect(copiedIntoPayloadBytes).toBeLessThanOrEqual(2 * bigWriteBytes);
    expect(replies.get(101)?.equals(small)).toBe(true);
    expect(replies.get(102)?.equals(bigs[5]?.subarray(0, 4096) ?? Buffer.alloc(0))).toBe(true);
  });
});
