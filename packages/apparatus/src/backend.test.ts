// Goal: in the device's own process, a fence reaches the apparatus's I/O at
// the next request, as it does over NBD: the local backends ask the device.
import { describe, expect, it } from "vitest";
import type { LogicalUnit__Output } from "@switchyard/proto";
import type { BlockIo } from "@switchyard/nbd";
import { LocalBackendSet } from "./backend.js";

function memoryBackend(): BlockIo & { writes: number } {
  const bytes = Buffer.alloc(4096);
  return {
    sizeBytes: bytes.length,
    writes: 0,
    read: (offsetBytes, into) => {
      bytes.copy(into, 0, offsetBytes, offsetBytes + into.length);
      return Promise.resolve();
    },
    write(offsetBytes, data) {
      this.writes += 1;
      data.copy(bytes, offsetBytes);
      return Promise.resolve();
    },
    writeZeroes: (offsetBytes, lengthBytes) => {
      bytes.fill(0, offsetBytes, offsetBytes + lengthBytes);
      return Promise.resolve();
    },
    flush: () => Promise.resolve(),
  };
}

const lu = { id: "lu0" } as LogicalUnit__Output;

describe("LocalBackendSet", () => {
  it("refuses I/O with EPERM once the device refuses the identity, and only then", async () => {
    const backend = memoryBackend();
    const fenced = new Set<string>();
    const set = new LocalBackendSet(new Map([["lu0", backend]]), (apparatusId, key) =>
      fenced.has(`${apparatusId}/${key}`) ? `apparatus ${apparatusId} is fenced` : undefined,
    );
    // Before it registers, an apparatus is not checked: it has no identity yet.
    await set.backend(lu).write(0, Buffer.from("a"), false);
    set.identify({ apparatusId: "a1", key: "k1" });
    await set.backend(lu).write(1, Buffer.from("b"), false);
    fenced.add("a1/k1");
    await expect(set.backend(lu).write(2, Buffer.from("c"), false)).rejects.toMatchObject({ code: "EPERM", message: "apparatus a1 is fenced" });
    await expect(set.backend(lu).read(0, Buffer.alloc(1))).rejects.toMatchObject({ code: "EPERM" });
    await expect(set.flushAll()).rejects.toMatchObject({ code: "EPERM" });
    expect(backend.writes).toBe(2);
    // A new registration (a rejoin) presents a key the device accepts.
    set.identify({ apparatusId: "a1", key: "k2" });
    await set.backend(lu).write(2, Buffer.from("c"), false);
    expect(backend.writes).toBe(3);
  });
});
