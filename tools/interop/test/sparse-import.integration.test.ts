// Goal: importing a sparse disk image works with the tools people use for it
// (nbdcopy, qemu-img convert -n, qemu-io), through every apparatus. Those
// tools turn holes into NBD_CMD_WRITE_ZEROES (and qemu-io into TRIM too) far
// longer than the 32 MiB maximum block size, which proto.md allows for
// commands without payload; the volume must then read back exactly as the
// image, holes that were dirty before included, and the LU files stay sparse.
// Method: `switchyard up` with three apparatuses; a 512 MiB raw image with
// random data in four runs (one across an extent boundary) and holes of
// 110-200 MiB; each volume is first dirtied inside the image's holes, then
// imported by one tool through one apparatus, and read back whole through
// another apparatus and compared byte for byte (nbdcopy out, qemu-img convert
// out, or qemu-io's pattern reads).
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Appliance,
  assertQemuIoClean,
  assertSucceeded,
  createVolume,
  describeResult,
  kibibyte,
  mebibyte,
  makeScratchDir,
  qemuIo,
  requireTools,
  runTool,
} from "./appliance.js";
import { allocatedBytes, firstDifference, writeSparseImage, type DataRun } from "./sparse-images.js";

const imageBytes = 512 * mebibyte;
/** The holes between these runs are 197.5, 198.4 and 110.9 MiB: each beyond nbdcopy's 128 MiB zero merge limit, or close. */
const dataRuns: readonly DataRun[] = [
  { offsetBytes: 0, lengthBytes: mebibyte },
  // Crosses the extent boundary at 200 MiB (extents are 4 MiB).
  { offsetBytes: 198 * mebibyte + 512 * kibibyte, lengthBytes: 3 * mebibyte },
  { offsetBytes: 400 * mebibyte, lengthBytes: 64 * kibibyte },
  { offsetBytes: imageBytes - mebibyte, lengthBytes: mebibyte },
];
/** Written with 0xee before each import, inside the image's holes: the import must zero them. */
const dirtyRuns: readonly DataRun[] = [
  { offsetBytes: 100 * mebibyte, lengthBytes: 8 * mebibyte },
  { offsetBytes: 300 * mebibyte - 4 * kibibyte, lengthBytes: 4 * mebibyte },
];
// 512 MiB in and out over loopback, mostly zeroing: seconds; two minutes means hung.
const copyTimeoutMs = 120_000;
const apparatusCount = 3;

let appliance: Appliance;
let scratchDir: string;
let imagePath: string;

beforeAll(async () => {
  await requireTools(["qemu-io", "qemu-img", "nbdcopy"]);
  scratchDir = await makeScratchDir();
  imagePath = join(scratchDir, "sparse.img");
  await writeSparseImage(imagePath, imageBytes, dataRuns);
  appliance = await Appliance.start({ apparatusCount, extraArgs: ["--lu-size", "2GiB"] });
});

afterAll(async () => {
  const results = await Promise.allSettled([
    (appliance as Appliance | undefined)?.dispose(),
    (scratchDir as string | undefined) === undefined ? undefined : rm(scratchDir, { recursive: true, force: true }),
  ]);
  for (const result of results) if (result.status === "rejected") throw result.reason;
});

/** A new volume of the image's size, with 0xee where the image has holes. */
async function dirtyVolume(name: string, apparatusIndex: number): Promise<string> {
  await createVolume(appliance, name, `${imageBytes / mebibyte}MiB`);
  const uri = appliance.nbdUri(name, apparatusIndex);
  assertQemuIoClean(await qemuIo(uri, [...dirtyRuns.map((run) => `write -P 0xee ${run.offsetBytes} ${run.lengthBytes}`), "flush"]));
  return uri;
}

/** Reads the whole volume back through `apparatusIndex` with nbdcopy and compares it with the image. */
async function expectVolumeIsImage(name: string, apparatusIndex: number): Promise<void> {
  const back = join(scratchDir, `${name}-back.img`);
  assertSucceeded(await runTool("nbdcopy", [appliance.nbdUri(name, apparatusIndex), back], { timeoutMs: copyTimeoutMs }));
  expect(await firstDifference(imagePath, back), `${name} read back through apparatus ${apparatusIndex} differs from the image at`).toBeUndefined();
  await rm(back);
}

async function luFilesAllocatedBytes(): Promise<number> {
  const entries = await readdir(appliance.dir, { recursive: true });
  const luFiles = entries.filter((entry) => /(^|\/)lu\d+\.img$/.test(entry));
  expect(luFiles.length, `LU files under ${appliance.dir}`).toBeGreaterThan(0);
  const sizes = await Promise.all(luFiles.map((entry) => allocatedBytes(join(appliance.dir, entry))));
  return sizes.reduce((sum, size) => sum + size, 0);
}

describe("importing a sparse image through several apparatuses", () => {
  it("nbdcopy imports it through a0; it reads back the same through a1", async () => {
    const uri = await dirtyVolume("import-nbdcopy", 0);
    const result = await runTool("nbdcopy", ["--flush", imagePath, uri], { timeoutMs: copyTimeoutMs });
    assertSucceeded(result);
    await expectVolumeIsImage("import-nbdcopy", 1);
  }, 3 * copyTimeoutMs);

  it("qemu-img convert -n imports it through a1; it reads back the same through a2", async () => {
    const uri = await dirtyVolume("import-qemu-img", 1);
    const result = await runTool("qemu-img", ["convert", "-n", "-f", "raw", "-O", "raw", imagePath, uri], { timeoutMs: copyTimeoutMs });
    assertSucceeded(result);
    await expectVolumeIsImage("import-qemu-img", 2);
  }, 3 * copyTimeoutMs);

  it("qemu-io zeroes and trims 200 MiB ranges through a2, with and without NO_HOLE; a0 reads them back as zeroes", async () => {
    const uri = await dirtyVolume("import-qemu-io", 2);
    assertQemuIoClean(await qemuIo(uri, [
      `write -P 0x5a 0 ${imageBytes}`,
      // -u lets the server punch (no NO_HOLE); without it NO_HOLE is set.
      `write -z -u ${mebibyte} ${200 * mebibyte}`,
      `write -z ${201 * mebibyte} ${200 * mebibyte}`,
      // TRIM is advisory: it must be accepted at any length; the data stays or reads as zero.
      `discard ${401 * mebibyte} ${100 * mebibyte}`,
      "flush",
    ]));
    const result = await qemuIo(appliance.nbdUri("import-qemu-io", 0), [
      `read -P 0x5a 0 ${mebibyte}`,
      `read -P 0 ${mebibyte} ${400 * mebibyte}`,
      `read -P 0x5a ${501 * mebibyte} ${11 * mebibyte}`,
    ]);
    assertQemuIoClean(result);
    expect(result.stdout.match(/^read \d+\/\d+ bytes/gm) ?? [], describeResult(result)).toHaveLength(3);
  }, 2 * copyTimeoutMs);

  it("leaves the LU files sparse: imported holes were not written as zeroes", async () => {
    // Written for real: each volume's dirty runs, the two images' data, and
    // the qemu-io volume's 512 MiB of 0x5a (zeroed with written zeroes).
    const writtenBytes = 3 * 12 * mebibyte + 2 * 5 * mebibyte + imageBytes;
    const allocated = await luFilesAllocatedBytes();
    expect(allocated).toBeLessThan(writtenBytes + 64 * mebibyte);
    // Without keeping holes the two images' 1 GiB would be allocated too.
    expect(allocated).toBeLessThan(2 * imageBytes);
  });
});
