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
 * whole with the header before it, and is copied. A second case sends the
 * last bytes of a payload late: a read that took them into the staging
 * buffer would also take the next WRITE and copy it (a CI run saw this).
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

/**
 * Counts the bytes Buffer.prototype.copy puts into 256 KiB buffers (WRITE
 * payloads) until the test's restores run.
 */
function countCopiesIntoPayloads(): { bytes: number } {
  const counted = { bytes: 0 };
  // Through Reflect: @types/node types Buffer.prototype as any.
  const copy = Reflect.get(Buffer.prototype, "copy") as Buffer["copy"];
  function countingCopy(this: Buffer, target: Uint8Array, targetStart?: number, sourceStart?: number, sourceEnd?: number): number {
    const copied = copy.call(this, target, targetStart, sourceStart, sourceEnd);
    if (target.length === bigWriteBytes) counted.bytes += copied;
    return copied;
  }
  Reflect.set(Buffer.prototype, "copy", countingCopy);
  restores.push(() => Reflect.set(Buffer.prototype, "copy", copy));
  return counted;
}

/** A RawPeer in transmission with a server on loopback over a 4 MiB memory export. */
async function servedPeer(): Promise<RawPeer> {
  const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: 4 << 20 }]);
  const server = new NbdServer({ provider, port: 0 });
  opened.push(server);
  const { port } = await server.listen();
  const peer = await RawPeer.connect(port);
  opened.push({ close: () => { peer.destroy(); } });
  await peer.handshake("disk");
  return peer;
}

describe("NbdServer receiving WRITE payloads", () => {
  it("receives pipelined big WRITEs into their payloads, copying at most part of the first, and parses the small requests after them", async () => {
    const peer = await servedPeer();
    const copies = countCopiesIntoPayloads();
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
    expect(copies.bytes).toBeLessThan(bigWriteBytes);
    expect(replies.get(101)?.equals(small)).toBe(true);
    expect(replies.get(102)?.equals(bigs[5]?.subarray(0, 4096) ?? Buffer.alloc(0))).toBe(true);
  });

  it("receives the last bytes of a big WRITE that come late into its payload too, so the next WRITE is not copied either", async () => {
    const peer = await servedPeer();
    // The first WRITE after the handshake starts in the staging buffer; it is done before counting starts.
    peer.send(encodeRequest({ command: NBD_CMD_WRITE, handle: 1, offsetBytes: 0 }, pattern(bigWriteBytes, 1)));
    expect((await peer.readSimpleReply()).errno).toBe(0);
    const copies = countCopiesIntoPayloads();
    const lateTailBytes = 1000;
    const second = encodeRequest({ command: NBD_CMD_WRITE, handle: 2, offsetBytes: bigWriteBytes }, pattern(bigWriteBytes, 2));
    const third = encodeRequest({ command: NBD_CMD_WRITE, handle: 3, offsetBytes: 2 * bigWriteBytes }, pattern(bigWriteBytes, 3));
    peer.send(second.subarray(0, second.length - lateTailBytes));
    // Long enough for the server to read all it was sent and wait for the tail.
    await new Promise((resolve) => setTimeout(resolve, 100));
    peer.send(Buffer.concat([second.subarray(second.length - lateTailBytes), third]));
    for (const handle of [2, 3]) {
      const reply = await peer.readSimpleReply();
      expect(reply).toMatchObject({ handle, errno: 0 });
    }
    for (const restore of restores.splice(0)) restore();
    expect(copies.bytes).toBe(0);
  });
});
