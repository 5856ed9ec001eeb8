// Goal: block status is right where an apparatus is a process of its own
// (it asks the device's LU export over NBD) and where an extent lives on an
// external NBD server (it asks that server, here nbdkit, whose answer comes
// from SEEK_DATA); and a move onto the external server copies only data.
// Method: `device serve` and three `apparatus serve` processes
// (ProcessCluster), nbdkit's file plugin on an empty sparse file registered
// with `device add-external`; a 64 MiB volume gets two runs of data through
// a1; nbdinfo --map through a2 and a3 must show exactly those runs before and
// after extent 1 (which holds a whole 1 MiB chunk of data) moves onto
// nbdkit; after the move nbdkit's file has only about that chunk allocated,
// and nbdcopy copies the volume out into a sparse file with the same bytes.
import { rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertQemuIoClean,
  assertSucceeded,
  kibibyte,
  makeScratchDir,
  mebibyte,
  qemuIo,
  requireTools,
  runCli,
  runTool,
  type CommandResult,
} from "./appliance.js";
import { ProcessCluster, type ApparatusId } from "./cluster.js";
import { Nbdkit } from "./nbdkit.js";
import { allocatedBytes, expectedMap, fillCommands, firstDifference, parseMap, writeFilledImage, type FilledRun, type MapEntry } from "./sparse-images.js";

const volumeBytes = 64 * mebibyte;
const externalBytes = 64 * mebibyte;
/** The cluster's extent size (`device serve`'s default): extent 1 is [4 MiB, 8 MiB). */
const extentBytes = 4 * mebibyte;
const dataRuns: readonly FilledRun[] = [
  // A whole copy chunk (1 MiB) of extent 1: what the move writes to nbdkit is exactly this.
  { offsetBytes: extentBytes + mebibyte, lengthBytes: mebibyte, byte: 0x44 },
  // Extent 3, which stays on the device.
  { offsetBytes: 13 * mebibyte, lengthBytes: 64 * kibibyte, byte: 0x55 },
];
const toolTimeoutMs = 60_000;

let cluster: ProcessCluster;
let nbdkit: Nbdkit;
let scratchDir: string;
let externalPath: string;

beforeAll(async () => {
  await requireTools(["nbdkit", "nbdinfo", "nbdcopy", "qemu-io"]);
  scratchDir = await makeScratchDir();
  externalPath = join(scratchDir, "external.img");
  await writeFile(externalPath, "");
  await truncate(externalPath, externalBytes);
  nbdkit = await Nbdkit.start(externalPath);
  cluster = await ProcessCluster.start({ luSize: "128MiB" });
  assertSucceeded(await cli(["volume", "create", "remote", "--size", `${volumeBytes / mebibyte}MiB`]));
  assertQemuIoClean(await qemuIo(cluster.nbdUri("a1", "remote"), fillCommands(dataRuns)));
}, 90_000);

afterAll(async () => {
  await (cluster as ProcessCluster | undefined)?.stop();
  await (nbdkit as Nbdkit | undefined)?.kill();
  await rm(scratchDir, { recursive: true, force: true });
});

function cli(args: readonly string[]): Promise<CommandResult> {
  return runCli([...args, "--endpoint", cluster.controller]);
}

/** nbdinfo --map through an apparatus. */
async function mapThrough(id: ApparatusId): Promise<MapEntry[]> {
  const result = await runTool("nbdinfo", ["--map", "--json", cluster.nbdUri(id, "remote")], { timeoutMs: toolTimeoutMs });
  assertSucceeded(result);
  return parseMap(result.stdout);
}

describe("block status across processes and external servers", () => {
  it("apparatus processes answer from the device's LU export: the map shows exactly the data written", async () => {
    expect(await mapThrough("a2")).toEqual(expectedMap(volumeBytes, dataRuns));
    expect(await mapThrough("a3")).toEqual(expectedMap(volumeBytes, dataRuns));
  });

  it("after extent 1 moves onto nbdkit, the map is the same (nbdkit's own block status), and only data was copied there", async () => {
    assertSucceeded(await cli(["device", "add-external", "ext1", nbdkit.uri("disk")]));
    const moved = await cli(["volume", "move", "remote", "--extent", "1", "--to", "ext1:disk", "--json"]);
    assertSucceeded(moved);
    // And says so: the device reported the holes it skipped, and the move shows them.
    expect(JSON.parse(moved.stdout)).toMatchObject({ state: "committed", hole_bytes_skipped: 3 * mebibyte });
    expect(await mapThrough("a2")).toEqual(expectedMap(volumeBytes, dataRuns));
    expect(await mapThrough("a3")).toEqual(expectedMap(volumeBytes, dataRuns));
    // The move wrote the one chunk of data, not the extent's 3 MiB of holes.
    expect(await allocatedBytes(externalPath)).toBeLessThanOrEqual(mebibyte + 64 * kibibyte);
    expect(await allocatedBytes(externalPath)).toBeGreaterThanOrEqual(mebibyte);
  });

  it("nbdcopy copies the volume out through a3 into a sparse file with the same bytes", async () => {
    const expectedPath = join(scratchDir, "expected.img");
    await writeFilledImage(expectedPath, volumeBytes, dataRuns);
    const out = join(scratchDir, "out.img");
    assertSucceeded(await runTool("nbdcopy", [cluster.nbdUri("a3", "remote"), out], { timeoutMs: toolTimeoutMs }));
    expect(await firstDifference(expectedPath, out)).toBeUndefined();
    expect(await allocatedBytes(out)).toBeLessThan(4 * mebibyte);
  });
});
