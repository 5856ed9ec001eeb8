// Goal: the shared BlockIo suite catches a broken implementation (a checker
// is itself tested): each planted bug makes at least one case fail, and a
// correct implementation fails none.
// Method: the in-memory export wrapped in decorators that each plant one
// bug, run through every case of the suite outside describe/it.
import assert from "node:assert/strict";
import { describe, expect, it } from "vitest";
import type { BlockIo } from "./block-io.js";
import { blockIoSuiteSizeMinBytes, failingBlockIoCases, type OpenedBlockIo } from "./block-io-suite.js";
import { NbdError } from "./export.js";
import { MemoryExportProvider } from "./memory-export.js";

const pastEndCodes = { read: "EINVAL", write: "ENOSPC", writeZeroes: "ENOSPC" } as const;

/** A correct BlockIo with one operation replaced by a broken one. */
function planted(breakIo: (io: BlockIo) => Partial<BlockIo>): () => Promise<OpenedBlockIo> {
  return () => {
    const provider = new MemoryExportProvider([{ name: "memory", sizeBytes: blockIoSuiteSizeMinBytes }]);
    const opened = provider.open("memory");
    assert.ok(opened !== undefined);
    const allocation = opened.allocation?.bind(opened);
    const io: BlockIo = {
      ...(allocation === undefined ? {} : { allocation }),
      sizeBytes: opened.sizeBytes,
      read: (offsetBytes, into) => opened.read(offsetBytes, into),
      write: (offsetBytes, data, fua) => opened.write(offsetBytes, data, fua),
      writeZeroes: (offsetBytes, lengthBytes, flags) => opened.writeZeroes(offsetBytes, lengthBytes, flags),
      flush: () => opened.flush(),
      ...breakIo(opened),
    };
    const close = (): Promise<void> => {
      opened.close();
      return Promise.resolve();
    };
    return Promise.resolve({ io, close });
  };
}

const bugs: readonly (readonly [string, (io: BlockIo) => Partial<BlockIo>])[] = [
  ["a write lands one byte late", (io) => ({
    write: (offsetBytes, data, fua) => io.write(offsetBytes + 1 + data.length <= io.sizeBytes ? offsetBytes + 1 : offsetBytes, data, fua),
  })],
  ["a write over 4 KiB is cut at 4 KiB", (io) => ({ write: (offsetBytes, data, fua) => io.write(offsetBytes, data.subarray(0, 4096), fua) })],
  ["a read fills past its buffer's view", (io) => ({
    read: async (offsetBytes, into) => {
      await io.read(offsetBytes, into);
      if (into.byteOffset > 0) Buffer.from(into.buffer, into.byteOffset - 1, 1).fill(0);
    },
  })],
  ["writeZeroes leaves its last byte", (io) => ({ writeZeroes: (offsetBytes, lengthBytes, flags) => io.writeZeroes(offsetBytes, Math.max(0, lengthBytes - 1), flags) })],
  ["a read past the end is clipped, not refused", (io) => ({ read: (offsetBytes, into) => io.read(offsetBytes, into.subarray(0, Math.max(0, Math.min(into.length, io.sizeBytes - offsetBytes)))) })],
  ["a write past the end changes the bytes before the end", (io) => ({
    write: async (offsetBytes, data, fua) => {
      if (offsetBytes + data.length <= io.sizeBytes || offsetBytes >= io.sizeBytes) return io.write(offsetBytes, data, fua);
      await io.write(offsetBytes, data.subarray(0, io.sizeBytes - offsetBytes), fua);
      throw new NbdError("ENOSPC", "partly written");
    },
  })],
  ["a write past the end fails with the wrong code", (io) => ({
    write: (offsetBytes, data, fua) => offsetBytes + data.length > io.sizeBytes ? Promise.reject(new NbdError("EIO", "wrong code")) : io.write(offsetBytes, data, fua),
  })],
  ["a write keeps the caller's buffer and sees later changes to it", (io) => {
    const lent: { offsetBytes: number; data: Buffer }[] = [];
    return {
      write: async (offsetBytes, data, fua) => {
        await io.write(offsetBytes, data, fua);
        lent.push({ offsetBytes, data });
      },
      read: async (offsetBytes, into) => {
        for (const { offsetBytes: at, data } of lent) await io.write(at, data, false);
        await io.read(offsetBytes, into);
      },
    };
  }],
  ["concurrent writes overwrite each other's ranges", (io) => {
    let inFlight = 0;
    return {
      write: async (offsetBytes, data, fua) => {
        inFlight += 1;
        // One turn later, the writes started together are all counted.
        await Promise.resolve();
        const spillBytes = inFlight > 1 ? 64 : 0;
        try {
          await io.write(Math.max(0, offsetBytes - spillBytes), data, fua);
        } finally {
          inFlight -= 1;
        }
      },
    };
  }],
  ["allocation claims zeroes for data", () => ({
    allocation: (_offsetBytes, lengthBytes) => Promise.resolve([{ lengthBytes, state: 3 }]),
  })],
  ["allocation answers past the range asked", () => ({
    allocation: (_offsetBytes, lengthBytes) => Promise.resolve([{ lengthBytes: lengthBytes + 512, state: 0 }]),
  })],
];

describe("the BlockIo suite", () => {
  it("passes a correct implementation", async () => {
    expect(await failingBlockIoCases({ open: planted(() => ({})), pastEndCodes, expect })).toEqual([]);
  });

  it.each(bugs)("fails when %s", async (_, breakIo) => {
    const failed = await failingBlockIoCases({ open: planted(breakIo), pastEndCodes, expect });
    expect(failed.length).toBeGreaterThan(0);
  });
});
