// Test helper for the sparse-image interop tests: makes a sparse raw image
// with random data (or runs of one byte) scattered between large holes,
// compares two images chunk by chunk (never a whole image in memory),
// measures a file's allocated bytes the way `du` does (st_blocks × 512), and
// reads `nbdinfo --map --json` against the map a set of data runs implies.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { isRecord } from "./appliance.js";

/** One run of random data in a sparse image. */
export interface DataRun {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/** A run of data filled with one byte (qemu-io's `write -P`). */
export interface FilledRun extends DataRun {
  readonly byte: number;
}

/** One entry of `nbdinfo --map --json`. */
export interface MapEntry {
  readonly offset: number;
  readonly length: number;
  readonly type: number;
}

/** nbdinfo --map's types: NBD_STATE_HOLE | NBD_STATE_ZERO for a hole, 0 for data. */
export const mapHoleType = 3;
export const mapDataType = 0;

/** Images are compared in pieces this big: a few MiB of memory per comparison. */
const compareChunkBytes = 4 * 1024 * 1024;
/** st_blocks counts 512-byte units on Linux, whatever the filesystem's block size. */
const statBlockBytes = 512;

/** Creates a sparse file of `sizeBytes` holding random data at `runs` only; everything else is a hole. */
export async function writeSparseImage(path: string, sizeBytes: number, runs: readonly DataRun[]): Promise<void> {
  const file = await open(path, "wx");
  try {
    await file.truncate(sizeBytes);
    for (const run of runs) {
      assert.ok(run.offsetBytes + run.lengthBytes <= sizeBytes, `data run at ${run.offsetBytes} ends past the image`);
      await file.write(randomBytes(run.lengthBytes), 0, run.lengthBytes, run.offsetBytes);
    }
  } finally {
    await file.close();
  }
}

/** Creates a sparse file of `sizeBytes` holding each run's byte at its run only. */
export async function writeFilledImage(path: string, sizeBytes: number, runs: readonly FilledRun[]): Promise<void> {
  const file = await open(path, "wx");
  try {
    await file.truncate(sizeBytes);
    for (const run of runs) await file.write(Buffer.alloc(run.lengthBytes, run.byte), 0, run.lengthBytes, run.offsetBytes);
  } finally {
    await file.close();
  }
}

/** qemu-io commands that write each run's byte at its run, then flush. */
export function fillCommands(runs: readonly FilledRun[]): string[] {
  return [...runs.map((run) => `write -P 0x${run.byte.toString(16)} ${run.offsetBytes} ${run.lengthBytes}`), "flush"];
}

/** Parses `nbdinfo --map --json`, refusing anything but {offset, length, type} entries. */
export function parseMap(stdout: string): MapEntry[] {
  const value: unknown = JSON.parse(stdout);
  if (!Array.isArray(value)) throw new Error(`nbdinfo --map --json is not an array: ${stdout}`);
  return value.map((entry: unknown) => {
    if (!isRecord(entry) || typeof entry.offset !== "number" || typeof entry.length !== "number" || typeof entry.type !== "number") {
      throw new Error(`nbdinfo --map entry is not {offset, length, type}: ${JSON.stringify(entry)}`);
    }
    return { offset: entry.offset, length: entry.length, type: entry.type };
  });
}

/** The map of an export of `sizeBytes` holding exactly `runs` (sorted, not touching): holes around each run. */
export function expectedMap(sizeBytes: number, runs: readonly DataRun[]): MapEntry[] {
  const map: MapEntry[] = [];
  let at = 0;
  for (const run of runs) {
    if (run.offsetBytes > at) map.push({ offset: at, length: run.offsetBytes - at, type: mapHoleType });
    map.push({ offset: run.offsetBytes, length: run.lengthBytes, type: mapDataType });
    at = run.offsetBytes + run.lengthBytes;
  }
  if (at < sizeBytes) map.push({ offset: at, length: sizeBytes - at, type: mapHoleType });
  return map;
}

/** The first offset where two files differ, or undefined when they hold the same bytes. */
export async function firstDifference(pathA: string, pathB: string): Promise<number | undefined> {
  const [fileA, fileB] = await Promise.all([open(pathA, "r"), open(pathB, "r")]);
  try {
    const [statsA, statsB] = await Promise.all([fileA.stat(), fileB.stat()]);
    if (statsA.size !== statsB.size) return Math.min(statsA.size, statsB.size);
    const chunkA = Buffer.alloc(compareChunkBytes);
    const chunkB = Buffer.alloc(compareChunkBytes);
    for (let offsetBytes = 0; offsetBytes < statsA.size; offsetBytes += compareChunkBytes) {
      const lengthBytes = Math.min(compareChunkBytes, statsA.size - offsetBytes);
      await Promise.all([fileA.read(chunkA, 0, lengthBytes, offsetBytes), fileB.read(chunkB, 0, lengthBytes, offsetBytes)]);
      if (!chunkA.subarray(0, lengthBytes).equals(chunkB.subarray(0, lengthBytes))) return offsetBytes;
    }
    return undefined;
  } finally {
    await Promise.all([fileA.close(), fileB.close()]);
  }
}

/** Bytes the filesystem allocated to `path` (what `du` reports), not its size. */
export async function allocatedBytes(path: string): Promise<number> {
  return (await stat(path)).blocks * statBlockBytes;
}
