/**
 * The shared suite every BlockIo implementation passes (block-io.ts), as
 * every abstract-level store passes abstract-level's: a package runs it
 * against its own implementation in its own tests, with `open` making a
 * fresh one per case.
 *
 * Method: each case reads the whole BlockIo into a model first (a fresh one
 * need not read as zeroes), applies its operations to the BlockIo and to the
 * model alike, and then reads the BlockIo back whole and compares: a write
 * that lands a byte off, touches a neighbour, or is lost fails, not only one
 * that reads back wrong where it was aimed.
 *
 * The runner's functions come in as an argument, not as an import of
 * vitest: the "./testing" subpath is also loaded by tools that run outside
 * a test runner (the conformance CLI), and only the types are taken here.
 */
import assert from "node:assert/strict";
import type { describe, expect, it } from "vitest";
import type { BlockIo } from "./block-io.js";

/** Large enough for a writeZeroes of more than one 1 MiB chunk (the device zeroes in 1 MiB pieces) and ranges across a 1 MiB boundary. */
export const blockIoSuiteSizeMinBytes = 2 << 20;
/** The model holds the whole BlockIo and each case reads it back whole: more would make the suite slow over NBD. */
export const blockIoSuiteSizeMaxBytes = 16 << 20;
/** A case's bound, for implementations behind a loopback NBD connection on a loaded machine. */
export const blockIoCaseTimeoutMs = 30_000;
/** The piece a whole-image read is done in: within any NBD server's request limit (ours: 32 MiB). */
const imageReadPieceBytes = 1 << 20;
/** Writes in flight at once in the concurrency case: above a typical NBD in-flight window on one connection. */
const concurrentWritesCount = 64;

assert.ok(blockIoSuiteSizeMinBytes > 1 << 20 && blockIoSuiteSizeMinBytes <= blockIoSuiteSizeMaxBytes);

/** The test functions of the runner; pass vitest's. */
export interface BlockIoSuiteRunner {
  readonly describe: typeof describe;
  readonly it: typeof it;
  readonly expect: typeof expect;
}

/** A BlockIo opened for one case, and how to release it (always called). */
export interface OpenedBlockIo {
  readonly io: BlockIo;
  close(): Promise<void>;
}

/** The `code` of the typed error a range past the end is refused with, per operation. */
export interface PastEndCodes {
  readonly read: string;
  readonly write: string;
  readonly writeZeroes: string;
}

export interface BlockIoSuiteOptions {
  readonly runner: BlockIoSuiteRunner;
  /** A fresh BlockIo of blockIoSuiteSizeMinBytes to blockIoSuiteSizeMaxBytes bytes. */
  readonly open: () => Promise<OpenedBlockIo>;
  readonly pastEndCodes: PastEndCodes;
}

/** Defines the suite's cases under `describe(name)`. */
export function blockIoSuite(name: string, options: BlockIoSuiteOptions): void {
  const { describe: group, it: test, expect: check } = options.runner;
  const cases = blockIoCases(check, options.pastEndCodes);
  group(`BlockIo suite: ${name}`, () => {
    for (const [title, run] of cases) {
      test(title, () => withIo(options.open, run), blockIoCaseTimeoutMs);
    }
  });
}

type Expect = typeof expect;
type Case = (io: BlockIo, model: Buffer) => Promise<void>;

/**
 * Runs every case against `open` outside a runner's describe/it and returns
 * the titles of those that failed: how the suite's own test plants bugs and
 * checks that the suite catches each.
 */
export async function failingBlockIoCases(options: Omit<BlockIoSuiteOptions, "runner"> & { readonly expect: Expect }): Promise<string[]> {
  const failed: string[] = [];
  for (const [title, run] of blockIoCases(options.expect, options.pastEndCodes)) {
    await withIo(options.open, run).catch(() => failed.push(title));
  }
  return failed;
}

async function withIo(open: () => Promise<OpenedBlockIo>, run: Case): Promise<void> {
  const opened = await open();
  try {
    const { sizeBytes } = opened.io;
    assert.ok(Number.isSafeInteger(sizeBytes) && sizeBytes >= blockIoSuiteSizeMinBytes && sizeBytes <= blockIoSuiteSizeMaxBytes,
      `the suite needs a BlockIo of ${blockIoSuiteSizeMinBytes} to ${blockIoSuiteSizeMaxBytes} bytes, not ${sizeBytes}`);
    const model = await readImage(opened.io);
    await run(opened.io, model);
  } finally {
    await opened.close();
  }
}

async function readImage(io: BlockIo): Promise<Buffer> {
  const image = Buffer.alloc(io.sizeBytes);
  for (let offsetBytes = 0; offsetBytes < io.sizeBytes; offsetBytes += imageReadPieceBytes) {
    await io.read(offsetBytes, image.subarray(offsetBytes, Math.min(io.sizeBytes, offsetBytes + imageReadPieceBytes)));
  }
  return image;
}

/** Bytes of a seeded xorshift32 stream: each write gets its own, so a misplaced one shows. */
function pattern(seed: number, lengthBytes: number): Buffer {
  const bytes = Buffer.alloc(lengthBytes);
  let state = (seed * 2_654_435_761 + 1) >>> 0 || 1;
  for (let index = 0; index < lengthBytes; index += 1) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

/** The offset of the first byte where the two differ, or -1: a failure names where, not a megabyte dump. */
function firstDifference(actual: Buffer, expected: Buffer): number {
  if (actual.equals(expected)) return -1;
  const lengthBytes = Math.min(actual.length, expected.length);
  for (let index = 0; index < lengthBytes; index += 1) if (actual[index] !== expected[index]) return index;
  return lengthBytes;
}

async function writeBoth(io: BlockIo, model: Buffer, offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
  await io.write(offsetBytes, data, fua);
  data.copy(model, offsetBytes);
}

/** The suite's cases, by title; `check` is the runner's expect. */
function blockIoCases(check: Expect, pastEndCodes: PastEndCodes): (readonly [string, Case])[] {
  const expectImage = async (io: BlockIo, model: Buffer): Promise<void> => {
    check(firstDifference(await readImage(io), model), "first byte that differs from the model").toBe(-1);
  };
  const expectRefused = async (operation: Promise<void>, code: string): Promise<void> => {
    const error: unknown = await operation.then(() => undefined, (failure: unknown) => failure);
    check(error).toBeInstanceOf(Error);
    check(error).toMatchObject({ code });
  };

  return [
    ["reads back what was written at aligned and unaligned offsets and lengths, and nothing else changes", async (io, model) => {
      const mebibyte = 1 << 20;
      const writes: readonly (readonly [number, number])[] = [
        [0, 4096], [3 * 4096, 512], [777, 1], [4095, 2], [511, 514], [65_536 - 100, 200],
        [mebibyte - 10, 20], [io.sizeBytes / 2 + 3, 131_072 + 5], [io.sizeBytes - 4096, 4096], [io.sizeBytes - 1, 1],
      ];
      for (const [index, [offsetBytes, lengthBytes]] of writes.entries()) {
        await writeBoth(io, model, offsetBytes, pattern(index + 1, lengthBytes), false);
      }
      await expectImage(io, model);
    }],

    ["reads of other alignments see the bytes of a write across sectors and blocks", async (io, model) => {
      const startBytes = 4090;
      await writeBoth(io, model, startBytes, pattern(11, 10_000), false);
      const reads: readonly (readonly [number, number])[] = [[startBytes, 10], [4100, 4900], [9000, 5090], [startBytes, 1], [14_089, 1], [4000, 11_000]];
      for (const [offsetBytes, lengthBytes] of reads) {
        const into = Buffer.alloc(lengthBytes);
        await io.read(offsetBytes, into);
        check(firstDifference(into, model.subarray(offsetBytes, offsetBytes + lengthBytes)), `read of ${lengthBytes} at ${offsetBytes}`).toBe(-1);
      }
    }],

    ["a read fills exactly its buffer, and a write is done with its buffer once it resolves", async (io, model) => {
      const data = pattern(21, 3000);
      await writeBoth(io, model, 5000, data, false);
      // The caller may reuse a write's buffer once it resolves: what was written must not change with it.
      data.fill(0x5a);
      const outer = Buffer.alloc(5000, 0xee);
      const into = outer.subarray(1000, 4000);
      await io.read(5000, into);
      check(firstDifference(into, model.subarray(5000, 8000))).toBe(-1);
      check(outer.subarray(0, 1000).every((byte) => byte === 0xee)).toBe(true);
      check(outer.subarray(4000).every((byte) => byte === 0xee)).toBe(true);
      await expectImage(io, model);
    }],

    ["FUA writes read back, and flush resolves with and without writes before it", async (io, model) => {
      await io.flush();
      await writeBoth(io, model, 8192, pattern(31, 4096), true);
      await writeBoth(io, model, 100_003, pattern(32, 777), true);
      await writeBoth(io, model, 200_000, pattern(33, 65_536), false);
      await io.flush();
      await io.flush();
      await expectImage(io, model);
    }],

    ["writeZeroes reads back as zeroes over its range only, with and without FUA and NO_HOLE", async (io, model) => {
      await writeBoth(io, model, 0, pattern(41, 300_000), false);
      await io.writeZeroes(1000, 5000, { fua: false, noHole: false });
      model.fill(0, 1000, 6000);
      await io.writeZeroes(70_001, 123_457, { fua: true, noHole: true });
      model.fill(0, 70_001, 70_001 + 123_457);
      await expectImage(io, model);
    }],

    ["writeZeroes of more than a mebibyte reaches the last byte", async (io, model) => {
      await writeBoth(io, model, 0, pattern(51, 4096), false);
      await writeBoth(io, model, io.sizeBytes - 65_536, pattern(52, 65_536), false);
      await io.writeZeroes(1, io.sizeBytes - 1, { fua: false, noHole: true });
      model.fill(0, 1);
      await expectImage(io, model);
    }],

    ["concurrent writes to disjoint ranges all land, and concurrent reads see them", async (io, model) => {
      const strideBytes = 4099;
      const lengthBytes = 3001;
      const ranges = Array.from({ length: concurrentWritesCount }, (_, index) => ({
        offsetBytes: 17 + index * strideBytes, data: pattern(100 + index, lengthBytes), back: Buffer.alloc(lengthBytes),
      }));
      await Promise.all(ranges.map(({ offsetBytes, data }, index) => io.write(offsetBytes, data, index % 2 === 0)));
      for (const { offsetBytes, data } of ranges) data.copy(model, offsetBytes);
      await Promise.all(ranges.map(({ offsetBytes, back }) => io.read(offsetBytes, back)));
      for (const { offsetBytes, back } of ranges) {
        check(firstDifference(back, model.subarray(offsetBytes, offsetBytes + lengthBytes)), `range at ${offsetBytes}`).toBe(-1);
      }
      await expectImage(io, model);
    }],

    ["zero-length reads, writes and writeZeroes succeed and change nothing, at the very end too", async (io, model) => {
      await writeBoth(io, model, io.sizeBytes - 4096, pattern(61, 4096), false);
      for (const offsetBytes of [0, 12_345, io.sizeBytes - 1, io.sizeBytes]) {
        await io.read(offsetBytes, Buffer.alloc(0));
        await io.write(offsetBytes, Buffer.alloc(0), false);
        await io.writeZeroes(offsetBytes, 0, { fua: false, noHole: false });
      }
      await expectImage(io, model);
    }],

    ["allocation, where offered, answers from the start of each range asked and claims zeroes only where the bytes are zeroes", async (io, model) => {
      await writeBoth(io, model, 4096, pattern(81, 8192), false);
      await writeBoth(io, model, io.sizeBytes / 2 + 100, pattern(82, 300_000), false);
      await io.writeZeroes(io.sizeBytes / 2 + 4096, 65_536, { fua: false, noHole: false });
      model.fill(0, io.sizeBytes / 2 + 4096, io.sizeBytes / 2 + 4096 + 65_536);
      const allocation = io.allocation?.bind(io);
      // Without it every byte is data (block-io.ts), which cannot be wrong.
      if (allocation === undefined) return;
      const asked: readonly (readonly [number, number])[] = [[0, io.sizeBytes], [io.sizeBytes / 2 + 1, 70_000], [io.sizeBytes - 1, 1]];
      for (const [startBytes, lengthBytes] of asked) {
        // Asked again from where each answer stops, as an NBD client does, until the range is covered.
        for (let atBytes = startBytes; atBytes < startBytes + lengthBytes;) {
          const extents = await allocation(atBytes, startBytes + lengthBytes - atBytes);
          check(extents.length, `extents answered at ${atBytes}`).toBeGreaterThan(0);
          for (const extent of extents) {
            check(extent.lengthBytes, `an extent at ${atBytes}`).toBeGreaterThan(0);
            const zeroClaimed = (extent.state & 2) !== 0;
            const zero = model.subarray(atBytes, atBytes + extent.lengthBytes).every((byte) => byte === 0);
            check(!zeroClaimed || zero, `zeroes claimed for ${extent.lengthBytes} bytes at ${atBytes}, which hold data`).toBe(true);
            atBytes += extent.lengthBytes;
          }
          check(atBytes, "the end of the answer").toBeLessThanOrEqual(startBytes + lengthBytes);
        }
      }
    }],

    ["a range past the end is refused with the typed error and changes nothing", async (io, model) => {
      const end = io.sizeBytes;
      await writeBoth(io, model, end - 8192, pattern(71, 8192), false);
      await expectRefused(io.read(end - 1, Buffer.alloc(2)), pastEndCodes.read);
      await expectRefused(io.read(end, Buffer.alloc(1)), pastEndCodes.read);
      await expectRefused(io.write(end - 1, Buffer.alloc(2, 0x77), false), pastEndCodes.write);
      await expectRefused(io.write(end, Buffer.alloc(1, 0x77), true), pastEndCodes.write);
      await expectRefused(io.writeZeroes(end - 4096, 8192, { fua: false, noHole: false }), pastEndCodes.writeZeroes);
      await expectRefused(io.writeZeroes(end, 1, { fua: true, noHole: true }), pastEndCodes.writeZeroes);
      await expectImage(io, model);
    }],
  ];
}
