// Goal: real NBD clients (nbdinfo, qemu-io, nbdcopy, qemu-img, fio) read and
// write Switchyard volumes correctly through every apparatus.
// Method: start `switchyard up` once for this file (ephemeral ports, a fresh
// data folder, 4 MiB extents), give each test its own volume, drive the
// clients as child processes on loopback, and compare what comes back with
// what went in: byte patterns checked by qemu-io, sha256 of whole images,
// fio's own crc32c verification.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Appliance,
  assertQemuIoClean,
  assertSucceeded,
  createVolume,
  describeResult,
  extentSizeBytes,
  isRecord,
  kibibyte,
  listVolumes,
  makeScratchDir,
  mebibyte,
  qemuIo,
  requireTools,
  runTool,
  sha256OfFile,
  writeRandomFile,
} from "./appliance.js";

// Copying 64 MiB over loopback takes about a second; a minute means hung.
const copyTimeoutMs = 60_000;
// The fio run below is bounded by size (32 MiB of 4 KiB writes, then the same
// read back); this caps it if the server stalls.
const fioTimeoutMs = 90_000;

let appliance: Appliance;
let scratchDir: string;

beforeAll(async () => {
  await requireTools(["nbdinfo", "qemu-io", "qemu-img", "nbdcopy", "fio"]);
  scratchDir = await makeScratchDir();
  appliance = await Appliance.start();
});

afterAll(async () => {
  // Each step runs even if an earlier one failed (the appliance may never
  // have started), so teardown never leaves a process or a folder behind.
  const results = await Promise.allSettled([
    (appliance as Appliance | undefined)?.dispose(),
    (scratchDir as string | undefined) === undefined ? undefined : rm(scratchDir, { recursive: true, force: true }),
  ]);
  for (const result of results) if (result.status === "rejected") throw result.reason;
});

/** Writes `sizeBytes` of random data to a new file and returns its sha256. */
interface NbdinfoExport {
  readonly name: unknown;
  readonly sizeBytes: unknown;
  readonly readOnly: unknown;
  readonly multiConn: unknown;
  readonly canFlush: unknown;
}

function parseNbdinfoExports(stdout: string): NbdinfoExport[] {
  const report: unknown = JSON.parse(stdout);
  if (!isRecord(report) || !Array.isArray(report.exports)) throw new Error(`nbdinfo --json has no exports array: ${stdout}`);
  return report.exports.map((entry: unknown) => {
    if (!isRecord(entry)) throw new Error(`nbdinfo export is not an object: ${JSON.stringify(entry)}`);
    return {
      name: entry["export-name"],
      sizeBytes: entry["export-size"],
      readOnly: entry.is_read_only,
      multiConn: entry.can_multi_conn,
      canFlush: entry.can_flush,
    };
  });
}

describe("NBD clients against a Switchyard volume", () => {
  it("nbdinfo reports the volume's size, that it is writable, and multi-conn", async () => {
    const sizeBytes = 48 * mebibyte;
    await createVolume(appliance, "info", "48MiB");
    const result = await runTool("nbdinfo", ["--json", appliance.nbdUri("info")], { timeoutMs: copyTimeoutMs });
    assertSucceeded(result);
    const exports = parseNbdinfoExports(result.stdout);
    expect(exports).toHaveLength(1);
    expect(exports[0]).toEqual({ name: "info", sizeBytes, readOnly: false, multiConn: true, canFlush: true });

    const listed = (await listVolumes(appliance)).find((volume) => volume.name === "info");
    expect(listed?.size_bytes).toBe(sizeBytes);
    expect(listed?.extents).toHaveLength(sizeBytes / extentSizeBytes);
  });

  it("every apparatus lists every volume as an export", async () => {
    await createVolume(appliance, "listed", "8MiB");
    for (const apparatus of appliance.endpoints.apparatuses) {
      const result = await runTool("nbdinfo", ["--list", "--json", `nbd://${apparatus.nbd}/`], { timeoutMs: copyTimeoutMs });
      assertSucceeded(result);
      const names = parseNbdinfoExports(result.stdout).map((entry) => entry.name);
      expect(names, `exports of apparatus ${apparatus.id}`).toContain("listed");
    }
  });

  it("qemu-io reads back patterns written at several offsets, across an extent boundary; unwritten bytes read as zeros", async () => {
    const volumeBytes = 4 * extentSizeBytes;
    await createVolume(appliance, "patterns", `${volumeBytes / mebibyte}MiB`);
    const uri = appliance.nbdUri("patterns");
    const writes = [
      { offsetBytes: 0, lengthBytes: 64 * kibibyte, pattern: "0x11" },
      // Straddles the boundary between extents 0 and 1: half lands in each.
      { offsetBytes: extentSizeBytes - 32 * kibibyte, lengthBytes: 64 * kibibyte, pattern: "0x22" },
      // Sector-aligned but not 4 KiB-aligned, inside extent 2.
      { offsetBytes: 2 * extentSizeBytes + 512, lengthBytes: 3 * kibibyte, pattern: "0x33" },
      // The volume's last bytes.
      { offsetBytes: volumeBytes - 64 * kibibyte, lengthBytes: 64 * kibibyte, pattern: "0x44" },
    ];
    assertQemuIoClean(
      await qemuIo(uri, [...writes.map((write) => `write -P ${write.pattern} ${write.offsetBytes} ${write.lengthBytes}`), "flush"]),
    );

    // Read back on a new connection, so nothing can come from the writer's state.
    const zeroRanges = [
      { offsetBytes: 64 * kibibyte, lengthBytes: extentSizeBytes - 96 * kibibyte },
      { offsetBytes: extentSizeBytes + 32 * kibibyte, lengthBytes: 64 * kibibyte },
      { offsetBytes: 2 * extentSizeBytes, lengthBytes: 512 },
      { offsetBytes: 2 * extentSizeBytes + 512 + 3 * kibibyte, lengthBytes: 512 },
      { offsetBytes: 3 * extentSizeBytes, lengthBytes: mebibyte },
    ];
    const result = await qemuIo(uri, [
      ...writes.map((write) => `read -P ${write.pattern} ${write.offsetBytes} ${write.lengthBytes}`),
      ...zeroRanges.map((range) => `read -P 0 ${range.offsetBytes} ${range.lengthBytes}`),
    ]);
    assertQemuIoClean(result);
    // qemu-io prints one "read N/N bytes" line per successful read.
    expect(result.stdout.match(/^read \d+\/\d+ bytes/gm) ?? [], describeResult(result)).toHaveLength(writes.length + zeroRanges.length);
  });

  it("nbdcopy copies 64 MiB of random data in and out unchanged", async () => {
    const sizeBytes = 64 * mebibyte;
    await createVolume(appliance, "copy", "64MiB");
    const source = join(scratchDir, "copy-source.bin");
    const back = join(scratchDir, "copy-back.bin");
    const sourceSha256 = await writeRandomFile(source, sizeBytes);
    assertSucceeded(await runTool("nbdcopy", ["--flush", source, appliance.nbdUri("copy")], { timeoutMs: copyTimeoutMs }));
    assertSucceeded(await runTool("nbdcopy", [appliance.nbdUri("copy"), back], { timeoutMs: copyTimeoutMs }));
    expect(await sha256OfFile(back)).toBe(sourceSha256);
  }, 2 * copyTimeoutMs);

  it("qemu-img convert copies a 32 MiB raw image in and out unchanged", async () => {
    await createVolume(appliance, "convert", "32MiB");
    const source = join(scratchDir, "convert-source.img");
    const back = join(scratchDir, "convert-back.img");
    await writeRandomFile(source, 32 * mebibyte);
    const uri = appliance.nbdUri("convert");
    assertSucceeded(await runTool("qemu-img", ["convert", "-f", "raw", "-O", "raw", "-n", source, uri], { timeoutMs: copyTimeoutMs }));
    assertSucceeded(await runTool("qemu-img", ["convert", "-f", "raw", "-O", "raw", uri, back], { timeoutMs: copyTimeoutMs }));
    const [expected, actual] = await Promise.all([readFile(source), readFile(back)]);
    expect(actual.length).toBe(expected.length);
    // Buffer.equals, not toEqual: a 32 MiB diff would drown the report.
    expect(actual.equals(expected), "image read back differs from the image written").toBe(true);
  }, 2 * copyTimeoutMs);

  it("data written through apparatus a0 reads back through a1, and the reverse, with no stale cache", async () => {
    expect(appliance.endpoints.apparatuses.map((apparatus) => apparatus.id)).toEqual(["a0", "a1"]);
    await createVolume(appliance, "shared", "16MiB");
    const throughA0 = appliance.nbdUri("shared", 0);
    const throughA1 = appliance.nbdUri("shared", 1);
    const boundaryOffsetBytes = extentSizeBytes - 4 * kibibyte;

    assertQemuIoClean(await qemuIo(throughA0, [`write -P 0x5a 0 ${mebibyte}`, `write -P 0x11 ${boundaryOffsetBytes} 8k`, "flush"]));
    assertQemuIoClean(await qemuIo(throughA1, [`read -P 0x5a 0 ${mebibyte}`, `read -P 0x11 ${boundaryOffsetBytes} 8k`]));

    // Overwrite through a1 what a0 has already served: a0 must not answer
    // from anything it remembers.
    assertQemuIoClean(await qemuIo(throughA1, [`write -P 0x22 ${boundaryOffsetBytes} 8k`, `write -P 0xa5 ${2 * mebibyte} 64k`, "flush"]));
    assertQemuIoClean(await qemuIo(throughA0, [`read -P 0x22 ${boundaryOffsetBytes} 8k`, `read -P 0xa5 ${2 * mebibyte} 64k`, `read -P 0x5a 0 ${mebibyte}`]));
  });

  it("fio's nbd engine completes random 4 KiB writes with crc32c verification", async () => {
    await createVolume(appliance, "fio", "64MiB");
    const outputPath = join(scratchDir, "fio.json");
    const writtenBytes = 32 * mebibyte;
    const result = await runTool(
      "fio",
      [
        "--name=interop", "--ioengine=nbd", `--uri=${appliance.nbdUri("fio")}`,
        "--rw=randwrite", "--bs=4k", "--iodepth=16", `--size=${writtenBytes}`,
        "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0",
        "--output-format=json", `--output=${outputPath}`,
      ],
      // fio writes state files into its working folder: keep them in scratch.
      { timeoutMs: fioTimeoutMs, cwd: scratchDir },
    );
    assertSucceeded(result);
    expect(result.stdout + result.stderr, describeResult(result)).not.toMatch(/verify|bad magic|crc32c/i);
    const report: unknown = JSON.parse(await readFile(outputPath, "utf8"));
    if (!isRecord(report) || !Array.isArray(report.jobs)) throw new Error("fio JSON has no jobs array");
    const job: unknown = report.jobs[0];
    if (!isRecord(job) || !isRecord(job.write) || !isRecord(job.read)) throw new Error("fio JSON job has no read/write sections");
    expect(job.error).toBe(0);
    expect(job.write.io_bytes).toBe(writtenBytes);
    // The verify pass reads every block written: proof that checking happened.
    expect(job.read.io_bytes).toBe(writtenBytes);
  }, fioTimeoutMs + 10_000);
});
