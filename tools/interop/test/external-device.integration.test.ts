// Goal: an NBD server registered with `switchyard device add-external`
// (issue 5's external storage, issue 6's command) holds volumes like a
// device's LU: bad registrations are refused in one line and change nothing;
// a 256 MiB volume migrates onto it and back identical byte for byte while
// hosts write and read through every apparatus; when the server dies in the
// middle of a migration, the migration fails with a line naming the device,
// the volume keeps working on its sources (other volumes flush as ever), and
// nothing is lost; a migration off the server, whose extents' I/O goes
// through the device meanwhile, resumes after the device crashes; and a
// volume moves between two such servers, streamed by the controller.
// Method: nbdkit (file plugin, a sparse file in the test's folder) and a
// cluster of processes (`device serve`, three `apparatus serve`, which reach
// the server with their own NBD clients); the CLI as a child process; the
// history checker's hosts on a2 and a3; the volume written and read back
// whole over NBD through a1 and compared with what was written.
import { randomBytes } from "node:crypto";
import { rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertOneLineFailure, assertSucceeded, describeResult, jsonOfSuccess, isRecord, makeScratchDir, mebibyte, requireTools, runCli, type CommandResult } from "./appliance.js";
import { ProcessCluster, hostBlockBytes, startHostLoad, writersAndReaders, type ApparatusId, type HostLoad } from "./cluster.js";
import { inTurns } from "./in-turns.js";
import { Nbdkit } from "./nbdkit.js";

const volumeBytes = 256 * mebibyte;
const extentBytes = 4 * mebibyte;
/** The external export: room for the whole volume and more, sparse until written. */
const externalBytes = 512 * mebibyte;
/** A migration of 256 MiB onto nbdkit on a loaded 2-core machine, with hosts writing. */
const migrationTimeoutMs = 180_000;
/** Slow enough that nbdkit dies with the migration well under way. */
const slowRateBytesPerSecond = 16 * mebibyte;
/** How long the device stays down when the test crashes it. */
const deviceDownMs = 1_000;
/** Five tries of the extent in hand (a second apart) before the migration gives up. */
const failureTimeoutMs = 60_000;
const pollMs = 100;
/** Volume I/O in pieces this big: under the NBD request limit, few round trips. */
const ioChunkBytes = 4 * mebibyte;

let cluster: ProcessCluster;
let nbdkit: Nbdkit;
let scratchDir: string;
/** What the volume must hold: the pattern, then what the hosts wrote. */
let expected: Buffer;

beforeAll(async () => {
  await requireTools(["nbdkit"]);
  scratchDir = await makeScratchDir();
  const disk = join(scratchDir, "external.img");
  await writeFile(disk, "");
  await truncate(disk, externalBytes);
  nbdkit = await Nbdkit.start(disk);
  cluster = await ProcessCluster.start({ luSize: "512MiB" });
}, 60_000);

afterAll(async () => {
  await (cluster as ProcessCluster | undefined)?.stop();
  await (nbdkit as Nbdkit | undefined)?.kill();
  await rm(scratchDir, { recursive: true, force: true });
});

function cli(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  return runCli([...args, "--endpoint", cluster.grpc("a2")], timeoutMs);
}



/** The volume written whole with `expected`, its checker tags cleared, and the history checker's hosts started on a2 and a3. */
async function startCheckedLoad(): Promise<HostLoad> {
  // The checker takes a block's first 4 bytes for the write that put it there, 0 before any.
  for (let offset = 0; offset < volumeBytes; offset += hostBlockBytes) expected.writeUInt32BE(0, offset);
  await writeVolume("a1", "pat", expected);
  return startHostLoad(cluster, writersAndReaders(["a2", "a3"]), "pat", volumeBytes / hostBlockBytes);
}

/** Stops the hosts, requires the checker to find nothing, and takes their last writes into `expected`: the checker vouched for them. */
async function stopCheckedLoad(load: HostLoad): Promise<void> {
  await load.stop();
  expect(load.history.found().slice(0, 5)).toEqual([]);
  expect(load.history.writtenBlocks().length).toBeGreaterThan(0);
  const block = Buffer.alloc(hostBlockBytes);
  const reader = await cluster.connect("a1", "pat");
  for (const index of load.history.writtenBlocks()) {
    await reader.read(index * hostBlockBytes, block);
    block.copy(expected, index * hostBlockBytes);
  }
  await reader.close();
}

/** The summaries of the changes in the journal, oldest first. */
async function changeSummaries(): Promise<string[]> {
  const changes = jsonOfSuccess(await cli(["change", "list", "--json"]));
  return Array.isArray(changes) ? changes.map((change) => (isRecord(change) ? String(change.summary) : "")) : [];
}

/** The summaries in `after` that `before` did not have (each counted as often as it appears). */
function newSummaries(before: readonly string[], after: readonly string[]): string[] {
  const seen = new Map<string, number>();
  for (const summary of before) seen.set(summary, (seen.get(summary) ?? 0) + 1);
  return after.filter((summary) => {
    const count = seen.get(summary) ?? 0;
    seen.set(summary, count - 1);
    return count <= 0;
  });
}

async function extentLus(volume: string): Promise<string[]> {
  const shown = jsonOfSuccess(await cli(["volume", "show", volume, "--json"]));
  if (!isRecord(shown) || !Array.isArray(shown.extents)) throw new Error(`volume show ${volume}: ${JSON.stringify(shown)}`);
  return shown.extents.map((extent) => (isRecord(extent) ? String(extent.lu) : "?"));
}

async function writeVolume(via: ApparatusId, volume: string, data: Buffer): Promise<void> {
  const client = await cluster.connect(via, volume);
  for (let offset = 0; offset < data.length; offset += ioChunkBytes) await client.write(offset, data.subarray(offset, offset + ioChunkBytes));
  await client.flush();
  await client.close();
}

/** The first chunk of the volume that differs from `expected`, read through `via`, or undefined. */
async function firstDifference(via: ApparatusId, volume: string): Promise<number | undefined> {
  const client = await cluster.connect(via, volume);
  const chunk = Buffer.alloc(ioChunkBytes);
  try {
    for (let offset = 0; offset < expected.length; offset += ioChunkBytes) {
      await client.read(offset, chunk);
      if (!chunk.equals(expected.subarray(offset, offset + ioChunkBytes))) return offset;
    }
    return undefined;
  } finally {
    await client.close();
  }
}

interface ChangeJson {
  readonly id: string;
  readonly state: string;
  readonly message: string;
  readonly copied_bytes: number;
  readonly copy_progress: readonly { readonly state: string }[];
}

/**
 * `change show ID --json`, or undefined when the controller did not answer.
 * Right after the device restarts that may happen for a moment (a controller
 * whose lease lapsed no longer holds the migration in memory, and its
 * channel to the device may still be waiting to reconnect); a wait bounds
 * it. Any other failure throws, with the servers' own account from stderr.
 */
async function changeOf(id: string): Promise<ChangeJson | undefined> {
  const shown = await cli(["change", "show", id, "--json"]);
  if (shown.exitCode === 1 && /did not answer/.test(shown.stderr)) return undefined;
  if (shown.exitCode !== 0) throw new Error(`${describeResult(shown)}\n${cluster.stderr()}`);
  const value = jsonOfSuccess(shown);
  if (!isRecord(value) || typeof value.state !== "string") throw new Error(`change show ${id}: ${JSON.stringify(value)}`);
  return value as unknown as ChangeJson;
}

/** Polls the change until `done`; unanswered polls count against `timeoutMs` like any other. */
async function waitForChange(id: string, done: (change: ChangeJson) => boolean, timeoutMs: number): Promise<ChangeJson> {
  const startedMs = performance.now();
  for (;;) {
    const change = await changeOf(id);
    if (change !== undefined && done(change)) return change;
    if (performance.now() - startedMs > timeoutMs) throw new Error(`change ${id} did not get there within ${timeoutMs} ms: ${JSON.stringify(change ?? "no answer")}\n${cluster.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * The first case runs a dozen CLI processes one after another: under a busy
 * CI machine each takes seconds to start (it timed out at vitest's 60 s once).
 */
const refusalsTimeoutMs = 180_000;

describe("an external device (nbdkit)", () => {
  it("is refused in one line for bad input, changing nothing, then registered, shown in --json and in device list", async () => {
    const before = (await cli(["device", "list", "--json"])).stdout;
    const uri = nbdkit.uri("disk");
    const usage: readonly (readonly [readonly string[], RegExp])[] = [
      [["device", "add-external"], /missing device NAME/],
      [["device", "add-external", "x"], /missing nbd:\/\/HOST:PORT\/EXPORT/],
      [["device", "add-external", "x", "http://127.0.0.1/disk"], /"http:\/\/127.0.0.1\/disk" is not an NBD URI; give nbd:\/\/HOST:PORT\/EXPORT/],
      [["device", "add-external", "x", "nbd://127.0.0.1/disk"], /is not an NBD URI/],
      [["device", "add-external", "x", "nbd://127.0.0.1:99999/disk"], /is not an NBD URI/],
      [["device", "add-external", "x", `${uri}/sub`], /export name "disk\/sub" must be/],
      [["device", "add-external", "bad/name", uri], /device name "bad\/name" must be/],
      [["device", "add-external", "dev0", uri], /a device or LU named dev0 exists already/],
      [["device", "add-external", "x", uri, "--extent-size", "lots"], /--extent-size "lots" is not a size/],
      [["device", "add-external", "x", uri, "--extent-size", "1000"], /--extent-size 1000 is not a multiple of 512 bytes/],
      [["device", "add-external", "x", uri, "extra"], /unexpected argument "extra"/],
    ];
    const failed: readonly (readonly [readonly string[], RegExp])[] = [
      // Port 1: nothing listens there on a test machine, so the connection is refused at once.
      [["device", "add-external", "x", "nbd://127.0.0.1:1/disk"], /cannot reach nbd:\/\/127.0.0.1:1\/disk for device x: .*ECONNREFUSED.*is the NBD server running\?/],
      [["device", "add-external", "x", uri, "--extent-size", "3MiB"], /is 536870912 bytes, not a whole number of 3145728-byte areas/],
    ];
    // Each is refused on its own and changes nothing, so they run a few at once; the
    // device list after all of them shows that none registered anything.
    const refusals = [...usage.map(([args, pattern]) => [args, pattern, 2] as const), ...failed.map(([args, pattern]) => [args, pattern, 1] as const)];
    const refused = await inTurns(refusals.map(([args]) => () => cli(args)));
    refused.forEach((result, index) => {
      const [, pattern, exitCode] = refusals[index] ?? [[], /never/, 0];
      assertOneLineFailure(result, exitCode, pattern);
    });
    expect((await cli(["device", "list", "--json"])).stdout).toBe(before);

    const added = jsonOfSuccess(await cli(["device", "add-external", "ext1", uri, "--json"]));
    expect(added).toEqual({
      id: "ext1",
      grpc: "",
      external: true,
      nbd_uri: uri,
      lus: [{ id: "ext1:disk", size_bytes: externalBytes, extent_size_bytes: extentBytes, areas_total: 128, areas_free: 128, used_bytes: 0, free_bytes: externalBytes }],
    });
    // Two refusals at once, then three reads at once (fewer than cliProcessesAtOnce): the
    // reads come after both, so they would show a device that a refusal registered all the same.
    const [sameName, sameServer] = await Promise.all([
      cli(["device", "add-external", "ext1", uri]),
      cli(["device", "add-external", "ext2", uri]),
    ]);
    assertOneLineFailure(sameName, 2, /a device or LU named ext1 exists already/);
    assertOneLineFailure(sameServer, 2, /is registered already, as device ext1/);
    const [listed, shown, table] = await Promise.all([
      cli(["device", "list", "--json"]),
      cli(["cluster", "status", "--json"]),
      cli(["device", "list"]),
    ]);

    const devices = jsonOfSuccess(listed);
    expect(Array.isArray(devices) ? devices.map((device) => (isRecord(device) ? [device.id, device.external] : [])) : devices).toEqual([["dev0", false], ["ext1", true]]);
    const status = jsonOfSuccess(shown);
    expect(isRecord(status) ? status.devices : undefined).toEqual(devices);
    assertSucceeded(table);
    expect(table.stdout).toMatch(new RegExp(`^ext1\\s+ext1:disk\\s+512 MiB\\s+4 MiB\\s+0 B\\s+512 MiB\\s+128/128\\s+${uri}$`, "m"));
  }, refusalsTimeoutMs);

  it("takes a 256 MiB volume and gives it back identical byte for byte, while hosts write and read through every apparatus", async () => {
    assertSucceeded(await cli(["volume", "create", "pat", "--size", "256MiB", "--lu", "lu0"]));
    expected = randomBytes(volumeBytes);
    const load = await startCheckedLoad();

    const onto = await cli(["migrate", "pat", "--to", "ext1:disk", "--watch", "--json"], migrationTimeoutMs);
    assertSucceeded(onto);
    expect(JSON.parse(onto.stdout.trim().split("\n").at(-1) ?? "{}")).toMatchObject({ state: "committed", copied_bytes: volumeBytes });
    expect(new Set(await extentLus("pat"))).toEqual(new Set(["ext1:disk"]));
    const back = await cli(["migrate", "pat", "--to", "lu0", "--watch", "--json"], migrationTimeoutMs);
    assertSucceeded(back);
    expect(new Set(await extentLus("pat"))).toEqual(new Set(["lu0"]));
    // Both ways in mirror state, by the device: onto the server, and off it with the extents' I/O through the device.
    const summaries = await changeSummaries();
    expect(summaries.filter((summary) => /^mirror \d+ extents? of pat to (ext1:disk|lu0)$/.test(summary)).map((summary) => summary.split(" ").at(-1))).toEqual(["ext1:disk", "lu0"]);
    expect(summaries.filter((summary) => summary.startsWith("move extent") && summary.includes(" of pat "))).toEqual([]);

    await stopCheckedLoad(load);
    expect(await firstDifference("a1", "pat")).toBeUndefined();
    expect(await firstDifference("a3", "pat")).toBeUndefined();
  }, 3 * migrationTimeoutMs);

  it("fails a migration whose target is killed, naming the device; the volume works on its sources and loses nothing", async () => {
    assertSucceeded(await cli(["volume", "create", "side", "--size", "8MiB", "--lu", "lu0"]));
    const started = jsonOfSuccess(await cli(["migrate", "pat", "--to", "ext1", "--rate", `${slowRateBytesPerSecond / mebibyte}MiB/s`, "--json"]));
    const id = isRecord(started) ? String(started.id) : "";
    // Killed once some extents are on the server and others still copy.
    await waitForChange(id, (change) => change.copy_progress.some((row) => row.state === "done"), failureTimeoutMs);
    await nbdkit.kill();
    const failed = await waitForChange(id, (change) => change.state !== "running", failureTimeoutMs);
    expect(failed.state).toBe("failed");
    expect(failed.message).toContain(`external device ext1 (${nbdkit.uri("disk")})`);
    expect(failed.message).toMatch(/the extents not switched stay where they are \(\d+ on [^)]+\)/);

    // The extents still on lu0 serve reads and writes through every apparatus while the server is away.
    const lus = await extentLus("pat");
    const onSource = lus.lastIndexOf("lu0");
    expect(lus.includes("ext1:disk") && onSource >= 0, JSON.stringify(lus)).toBe(true);
    const offset = onSource * extentBytes + 8 * hostBlockBytes;
    const written = Buffer.alloc(hostBlockBytes, 0x5a);
    const writer = await cluster.connect("a1", "pat");
    await writer.write(offset, written, true);
    await writer.close();
    written.copy(expected, offset);
    for (const via of ["a2", "a3"] as const) {
      const reader = await cluster.connect(via, "pat");
      const back = Buffer.alloc(extentBytes);
      await reader.read(onSource * extentBytes, back);
      await reader.close();
      expect(back.equals(expected.subarray(onSource * extentBytes, (onSource + 1) * extentBytes)), `extent ${onSource} through ${via}`).toBe(true);
    }

    // A FLUSH of a volume with no extent on the server succeeds while it is away; one of the volume
    // with extents there cannot be made durable, and says so.
    const side = await cluster.connect("a2", "side");
    await side.write(0, Buffer.alloc(hostBlockBytes, 7));
    await side.flush();
    await side.close();
    const onServer = await cluster.connect("a2", "pat");
    await expect(onServer.flush()).rejects.toMatchObject({ code: "EIO" });
    await onServer.close();

    // The server back on the same file: the extents it holds are all there, and the migration can be done again.
    await nbdkit.restart();
    expect(await firstDifference("a2", "pat")).toBeUndefined();
    const again = await cli(["migrate", "pat", "--to", "ext1:disk", "--watch", "--json"], migrationTimeoutMs);
    assertSucceeded(again);
    expect(new Set(await extentLus("pat"))).toEqual(new Set(["ext1:disk"]));
    expect(await firstDifference("a3", "pat")).toBeUndefined();
  }, failureTimeoutMs * 2 + migrationTimeoutMs);

  it("fails a migration off a source that cannot be read, naming it; the extents stay where they were and serve again once it reads", async () => {
    // nbdkit again on the same file, now failing every read with EIO while `inject` exists.
    const inject = join(scratchDir, "reads-fail");
    await nbdkit.kill();
    await nbdkit.restart({ readErrorsWhile: inject });
    expect(await firstDifference("a2", "pat")).toBeUndefined();
    await writeFile(inject, "");
    const started = jsonOfSuccess(await cli(["migrate", "pat", "--to", "lu0", "--json"]));
    const id = isRecord(started) ? String(started.id) : "";
    const failed = await waitForChange(id, (change) => change.state !== "running", failureTimeoutMs);
    expect(failed.state).toBe("failed");
    expect(failed.message).toMatch(new RegExp(`external device ext1 \\(${nbdkit.uri("disk").replaceAll(".", "\\.")}\\) failed a read: .*EIO`));
    expect(failed.message).toMatch(/the extents not switched stay where they are \(\d+ on [^)]+\)/);
    expect(new Set(await extentLus("pat"))).toEqual(new Set(["ext1:disk"]));
    // The disk reads again: every byte is where it was.
    await rm(inject);
    expect(await firstDifference("a3", "pat")).toBeUndefined();
  }, failureTimeoutMs * 2);

  it("resumes a migration off the server after the device crashes mid-copy, the extents' I/O going through it, and loses nothing", async () => {
    const load = await startCheckedLoad();
    const started = jsonOfSuccess(await cli(["migrate", "pat", "--to", "lu0", "--rate", `${(2 * slowRateBytesPerSecond) / mebibyte}MiB/s`, "--json"]));
    const id = isRecord(started) ? String(started.id) : "";
    await waitForChange(id, (change) => change.copied_bytes >= 2 * extentBytes, failureTimeoutMs);
    await cluster.restartDevice(deviceDownMs);
    const finished = await waitForChange(id, (change) => change.state !== "running", migrationTimeoutMs);
    expect(finished).toMatchObject({ state: "committed", copied_bytes: volumeBytes });
    expect(new Set(await extentLus("pat"))).toEqual(new Set(["lu0"]));
    await stopCheckedLoad(load);
    expect(await firstDifference("a1", "pat")).toBeUndefined();
  }, failureTimeoutMs + migrationTimeoutMs);

  it("moves a volume from one external device to another in two hops through a device LU, each copied in mirror state, identical byte for byte under host I/O", async () => {
    const disk = join(scratchDir, "second.img");
    await writeFile(disk, "");
    await truncate(disk, externalBytes);
    const second = await Nbdkit.start(disk);
    try {
      assertSucceeded(await cli(["device", "add-external", "ext2", second.uri("disk")]));
      assertSucceeded(await cli(["migrate", "pat", "--to", "ext1", "--watch", "--json"], migrationTimeoutMs));
      const load = await startCheckedLoad();
      const before = await changeSummaries();
      const across = await cli(["migrate", "pat", "--to", "ext2:disk", "--watch", "--json"], migrationTimeoutMs);
      assertSucceeded(across);
      expect(new Set(await extentLus("pat"))).toEqual(new Set(["ext2:disk"]));
      // No device of ours sees the writes on ext1: the extents went onto lu0 in mirror state, then from there onto ext2.
      const hops = newSummaries(before, await changeSummaries()).filter((summary) => /^mirror \d+ extents? of pat to /.test(summary));
      // The staging LU is whichever device LU has the most free areas.
      expect(hops.map((summary) => summary.split(" ").at(-1))).toEqual([expect.stringMatching(/^lu\d+$/), "ext2:disk"]);
      expect(hops.map((summary) => Number(summary.split(" ")[1]))).toEqual([volumeBytes / extentBytes, volumeBytes / extentBytes]);
      await stopCheckedLoad(load);
      expect(await firstDifference("a3", "pat")).toBeUndefined();
      // Back to the device, so that the volume does not outlive the server.
      assertSucceeded(await cli(["migrate", "pat", "--to", "lu0", "--watch", "--json"], migrationTimeoutMs));
      expect(await firstDifference("a2", "pat")).toBeUndefined();
    } finally {
      await second.kill();
    }
  }, 3 * migrationTimeoutMs);
});

