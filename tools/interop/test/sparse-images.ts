// Test helper for the sparse-image interop tests: makes a sparse raw image
// with random data scattered between large holes, compares two images chunk
// by chunk (never a whole image in memory), and measures a file's allocated
// bytes the way `du` does (st_blocks × 512).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { open, stat } from "node:fs/promises";

/** One run of random data in a sparse image. */
export interface DataRun {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

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
