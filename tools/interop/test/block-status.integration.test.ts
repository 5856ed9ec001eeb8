// Goal: a volume answers NBD_CMD_BLOCK_STATUS (base:allocation) from its
// areas' real contents, so that real clients see its holes (nbdinfo --map,
// qemu-img map) and copy only its data: a copy out of a mostly empty volume
// is a sparse file with the same bytes. A fast zero, which the volume cannot
// do faster than writing, is refused with ENOTSUP and changes nothing.
// Method: `switchyard up` with two apparatuses; a 256 MiB volume gets three
// small runs of data through a0 (one across an extent boundary); the map is
// read through a1, and nbdcopy and qemu-img convert copy the volume out
// through both; each copy is compared byte for byte with an image the test
// builds itself, and its allocated blocks (st_blocks, what du counts) must be
// a small fraction of its size.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Appliance,
  assertQemuIoClean,
  assertSucceeded,
  createVolume,
  describeResult,
  isRecord,
  kibibyte,
  makeScratchDir,
  mebibyte,
  qemuIo,
  requireTools,
  runTool,
} from "./appliance.js";
import { allocatedBytes, expectedMap, fillCommands, firstDifference, parseMap, writeFilledImage, type FilledRun } from "./sparse-images.js";

const volumeBytes = 256 * mebibyte;
/** Runs of data, each filled with its own byte by qemu-io; 4 KiB-aligned, as our holes are found in 4 KiB granules. */
const dataRuns: readonly FilledRun[] = [
  { offsetBytes: 10 * mebibyte, lengthBytes: mebibyte, byte: 0x11 },
  // Across the extent boundary at 200 MiB.
  { offsetBytes: 200 * mebibyte - 32 * kibibyte, lengthBytes: 64 * kibibyte, byte: 0x22 },
  { offsetBytes: volumeBytes - 4 * kibibyte, lengthBytes: 4 * kibibyte, byte: 0x33 },
];
const dataBytes = dataRuns.reduce((sum, run) => sum + run.lengthBytes, 0);
/** A sparse copy holds the data and a little filesystem slack; 8 MiB is far below the 256 MiB of a full one. */
const sparseCopyAllocatedMaxBytes = 8 * mebibyte;
const copyTimeoutMs = 60_000;

let appliance: Appliance;
let scratchDir: string;
let expectedPath: string;

beforeAll(async () => {
  await requireTools(["nbdinfo", "nbdcopy", "qemu-img", "qemu-io"]);
  scratchDir = await makeScratchDir();
  appliance = await Appliance.start();
  await createVolume(appliance, "sparse", `${volumeBytes / mebibyte}MiB`);
  assertQemuIoClean(await qemuIo(appliance.nbdUri("sparse", 0), fillCommands(dataRuns)));
  expectedPath = join(scratchDir, "expected.img");
  await writeFilledImage(expectedPath, volumeBytes, dataRuns);
});

afterAll(async () => {
  const results = await Promise.allSettled([
    (appliance as Appliance | undefined)?.dispose(),
    (scratchDir as string | undefined) === undefined ? undefined : rm(scratchDir, { recursive: true, force: true }),
  ]);
  for (const result of results) if (result.status === "rejected") throw result.reason;
});

describe("block status of a mostly empty volume", () => {
  it("nbdinfo --map through either apparatus shows the holes and exactly the data written", async () => {
    for (const apparatusIndex of [0, 1]) {
      const result = await runTool("nbdinfo", ["--map", "--json", appliance.nbdUri("sparse", apparatusIndex)], { timeoutMs: copyTimeoutMs });
      assertSucceeded(result);
      expect(parseMap(result.stdout), `map through apparatus ${apparatusIndex}`).toEqual(expectedMap(volumeBytes, dataRuns));
    }
  });

  it("qemu-img map reports data only where it was written", async () => {
    const result = await runTool("qemu-img", ["map", "--output=json", "-f", "raw", appliance.nbdUri("sparse", 1)], { timeoutMs: copyTimeoutMs });
    assertSucceeded(result);
    const entries: unknown = JSON.parse(result.stdout);
    if (!Array.isArray(entries)) throw new Error(describeResult(result));
    const mappedDataBytes = entries
      .filter((entry: unknown) => isRecord(entry) && entry.data === true)
      .reduce((sum: number, entry: unknown) => sum + (isRecord(entry) && typeof entry.length === "number" ? entry.length : 0), 0);
    expect(mappedDataBytes, describeResult(result)).toBe(dataBytes);
  });

  it("nbdcopy copies it out through a1 into a sparse file with the same bytes", async () => {
    const out = join(scratchDir, "nbdcopy-out.img");
    assertSucceeded(await runTool("nbdcopy", [appliance.nbdUri("sparse", 1), out], { timeoutMs: copyTimeoutMs }));
    expect(await firstDifference(expectedPath, out)).toBeUndefined();
    expect(await allocatedBytes(out)).toBeLessThan(sparseCopyAllocatedMaxBytes);
  });

  it("qemu-img convert copies it out through a0 into a sparse file with the same bytes", async () => {
    const out = join(scratchDir, "convert-out.img");
    assertSucceeded(await runTool("qemu-img", ["convert", "-f", "raw", "-O", "raw", appliance.nbdUri("sparse", 0), out], { timeoutMs: copyTimeoutMs }));
    expect(await firstDifference(expectedPath, out)).toBeUndefined();
    expect(await allocatedBytes(out)).toBeLessThan(sparseCopyAllocatedMaxBytes);
  });

  it("refuses a fast zero with ENOTSUP and leaves the data in place", async () => {
    const script = [
      "import errno",
      "assert h.can_fast_zero()",
      "try:",
      `    h.zero(${mebibyte}, ${10 * mebibyte}, nbd.CMD_FLAG_FAST_ZERO)`,
      "    raise SystemExit('fast zero succeeded')",
      "except nbd.Error as error:",
      "    assert error.errnum == errno.ENOTSUP, error.errnum",
      "print('fast zero refused')",
    ].join("\n");
    // nbdsh is `python3 -m nbd`; libnbd's module belongs to the system Python.
    const result = await runTool("/usr/bin/python3", ["-m", "nbd", "-u", appliance.nbdUri("sparse", 0), "-c", script], { timeoutMs: copyTimeoutMs });
    assertSucceeded(result);
    expect(result.stdout).toContain("fast zero refused");
    assertQemuIoClean(await qemuIo(appliance.nbdUri("sparse", 1), [`read -P 0x11 ${10 * mebibyte} ${mebibyte}`]));
  });
});
