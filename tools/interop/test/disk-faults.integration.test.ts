// Goal: disk faults end to end (issue 19 item 4). A host gets the NBD
// spec's errno for what a failing disk does (EIO for a bad range of an LU,
// ENOSPC for a full LU file system) and success everywhere else; the
// console names the device and LU that failed; nothing acknowledged is
// lost; a store whose fsync fails refuses the change with one clear line
// instead of crashing, keeps its last committed generation, and takes the
// next change once the fault clears; after every fault clears, I/O goes on.
// Method: real `switchyard up` processes. The bad range and the failing
// fsync come from the test build's --test-disk-faults FILE (a DiskFaults
// decorator of the device's file port, @switchyard/device/testing), switched
// by replacing FILE while the process runs. The full file system is real: a
// small tmpfs holding the data folder, grown with `mount -o remount,size=`.
// Hosts are qemu-io and the project's NBD client (which reports the errno
// by name).
import { execFile } from "node:child_process";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { NbdClient } from "@switchyard/nbd";
import type { DiskFault } from "@switchyard/device/testing";
import { Appliance, assertOneLineFailure, assertSucceeded, createVolume, describeResult, extentSizeBytes, jsonOfSuccess, kibibyte, listVolumes, makeScratchDir, mebibyte, qemuIo } from "./appliance.js";
import { consoleToken, consoleTokensFolder, consoleUrl, scrape, sessionCookieFor } from "./console-helpers.js";

const run = promisify(execFile);
const hostTimeoutMs = 10_000;
/** The console looks at the device's counters every 5 s (ioSampleIntervalMs); two looks and a margin. */
const eventWithinMs = 15_000;
const pollIntervalMs = 200;
/** The bad range: 64 KiB, 1 MiB into the LU area that holds the volume's extent 0. */
const badInExtentBytes = mebibyte;
const badLengthBytes = 64 * kibibyte;
/** The store log is preallocated (64 MiB, store-log.ts); this leaves about 15 MiB for LU data. */
const tmpfsSizeSmall = "80M";
const tmpfsSizeGrown = "160M";
const chunkBytes = mebibyte;
/** The store case starts two appliances and runs ten commands: 23 s on a quiet machine, over a minute on a loaded one. */
const storeCaseTimeoutMs = 150_000;

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Last in, first out: the appliance stops before the file system it runs on is unmounted.
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A scratch folder for the control file, removed after the test. */
async function controlFile(): Promise<{ path: string; set: (faults: readonly DiskFault[]) => Promise<void> }> {
  const folder = await makeScratchDir();
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  const path = join(folder, "disk-faults.json");
  // Replaced by a rename, so the device reads one whole list or the other.
  const set = async (faults: readonly DiskFault[]): Promise<void> => {
    await writeFile(`${path}.new`, JSON.stringify(faults));
    await rename(`${path}.new`, path);
  };
  return { path, set };
}

async function startAppliance(options: Parameters<typeof Appliance.start>[0]): Promise<Appliance> {
  const appliance = await Appliance.start(options);
  cleanups.push(() => appliance.dispose());
  return appliance;
}

async function host(appliance: Appliance, volume: string): Promise<NbdClient> {
  const [address = "", port = ""] = appliance.endpoints.apparatuses[0]?.nbd.split(":") ?? [];
  const client = await NbdClient.connect({ host: address, port: Number(port), exportName: volume, timeoutMs: hostTimeoutMs });
  cleanups.push(() => client.close());
  return client;
}

/** How a request ended: "ok", or the NBD errno the server answered. */
function outcome(request: Promise<void>): Promise<string> {
  return request.then(() => "ok", (error: unknown) => (error as { code?: string }).code ?? String(error));
}

function filled(lengthBytes: number, value: number): Buffer {
  return Buffer.alloc(lengthBytes, value);
}

async function readBack(client: NbdClient, offsetBytes: number, lengthBytes: number): Promise<Buffer> {
  const into = Buffer.alloc(lengthBytes);
  await client.read(offsetBytes, into);
  return into;
}

/**
 * Polls the console's events until one is a disk fault of `subject` whose
 * cause matches `cause` and that the controller recorded in the journal (so
 * it outlives restarts). The controller looks every few seconds and records
 * each newer failure, so a look between two failures records a smaller
 * count first; the count after the last failure comes at the next look.
 */
async function diskFaultEvent(url: string, cookie: string, subject: string, cause: RegExp): Promise<{ kind: string; subject: string; cause: string; source: string }> {
  const deadlineMs = Date.now() + eventWithinMs;
  for (;;) {
    const answer = (await (await fetch(new URL("api/events", url), { headers: { cookie } })).json()) as { events: { kind: string; subject: string; cause: string; source: string }[] };
    const found = answer.events.find((event) => event.kind === "disk-fault" && event.subject === subject && event.source === "journal" && cause.test(event.cause));
    if (found !== undefined) return found;
    if (Date.now() > deadlineMs) throw new Error(`no disk-fault event for ${subject} within ${eventWithinMs} ms: ${JSON.stringify(answer.events)}`);
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

describe("disk faults end to end", () => {
  it("an LU range that fails with EIO: hosts get EIO there and success elsewhere, the console names dev0 and the LU, and nothing acknowledged is lost", async () => {
    const control = await controlFile();
    const appliance = await startAppliance({ extraArgs: ["--lu-size", "64MiB"], testFlags: ["--test-disk-faults", control.path] });
    await createVolume(appliance, "bad", "8MiB");
    const extent = (await listVolumes(appliance)).find((volume) => volume.name === "bad")?.extents[0];
    if (extent === undefined) throw new Error("volume bad has no extent 0");
    const client = await host(appliance, "bad");
    await client.write(0, filled(extentSizeBytes, 0x11), true);
    const luOffsetBytes = extent.area * extentSizeBytes + badInExtentBytes;
    await control.set([{ file: `${extent.lu}.img`, operations: ["read", "write"], offsetBytes: luOffsetBytes, lengthBytes: badLengthBytes, errno: "EIO" }]);

    expect(await outcome(client.read(badInExtentBytes, Buffer.alloc(4 * kibibyte)))).toBe("EIO");
    // Straddling the range's end: the whole request fails, as a disk fails it.
    expect(await outcome(client.write(badInExtentBytes + badLengthBytes - 4 * kibibyte, filled(8 * kibibyte, 0x22), false))).toBe("EIO");
    expect(await outcome(client.write(2 * mebibyte, filled(4 * kibibyte, 0x33), true))).toBe("ok");
    expect((await readBack(client, 3 * mebibyte, 4 * kibibyte)).equals(filled(4 * kibibyte, 0x11))).toBe(true);
    const qemuBad = await qemuIo(appliance.nbdUri("bad"), [`read -P 0x11 ${badInExtentBytes} 4k`]);
    expect(qemuBad.stdout + qemuBad.stderr, describeResult(qemuBad)).toMatch(/Input\/output error/);
    const qemuGood = await qemuIo(appliance.nbdUri("bad"), ["read -P 0x11 3M 64k"]);
    expect(qemuGood.stdout + qemuGood.stderr, describeResult(qemuGood)).not.toMatch(/error|failed/i);

    const url = await consoleUrl(appliance);
    const errors = (await scrape(url)).scrape;
    const series = (operation: string): Record<string, string> => ({ device: "dev0", lu: extent.lu, operation });
    expect(errors.value("switchyard_lu_io_errors_total", series("read"))).toBe(2);
    expect(errors.value("switchyard_lu_io_errors_total", series("write"))).toBe(1);
    const cookie = await sessionCookieFor(url, await consoleToken(await consoleTokensFolder(appliance), "viewer"));
    const event = await diskFaultEvent(url, cookie, `dev0/${extent.lu}`, /^3 failed/);
    expect(event.cause).toMatch(/^3 failed I\/Os of LU lu\d's file on device dev0 so far; the newest: .*failed: EIO/);

    await rm(control.path);
    const whole = await readBack(client, 0, extentSizeBytes);
    const expected = filled(extentSizeBytes, 0x11);
    expected.fill(0x33, 2 * mebibyte, 2 * mebibyte + 4 * kibibyte);
    expect(whole.equals(expected), "every acknowledged write reads back, the bad range's included; no refused one landed").toBe(true);
    await client.write(badInExtentBytes, filled(badLengthBytes, 0x44), true);
    expect((await readBack(client, badInExtentBytes, badLengthBytes)).equals(filled(badLengthBytes, 0x44))).toBe(true);
  });

  it("an LU file system that fills up: hosts get ENOSPC, acknowledged data reads back, and writes go on once it has room", async () => {
    const mountPoint = await makeScratchDir();
    cleanups.push(() => rm(mountPoint, { recursive: true, force: true }));
    await run("mount", ["-t", "tmpfs", "-o", `size=${tmpfsSizeSmall}`, "tmpfs", mountPoint]);
    cleanups.push(async () => { await run("umount", [mountPoint]); });
    const dir = join(mountPoint, "appliance");
    await mkdir(dir);
    const appliance = await startAppliance({ dir, extraArgs: ["--lu-size", "64MiB"] });
    await createVolume(appliance, "full", "32MiB");
    const client = await host(appliance, "full");

    const chunksMax = (32 * mebibyte) / chunkBytes;
    let acknowledged = 0;
    let failure = "";
    while (acknowledged < chunksMax && failure === "") {
      const result = await outcome(client.write(acknowledged * chunkBytes, filled(chunkBytes, acknowledged + 1), false));
      if (result === "ok") acknowledged += 1;
      else failure = result;
    }
    expect(failure, `after ${acknowledged} MiB written`).toBe("ENOSPC");
    expect(acknowledged).toBeGreaterThan(4);
    const qemuFull = await qemuIo(appliance.nbdUri("full"), [`write -P 0x77 ${acknowledged * chunkBytes} 1M`]);
    expect(qemuFull.stdout + qemuFull.stderr, describeResult(qemuFull)).toMatch(/No space left on device/);
    await client.flush();
    for (let chunk = 0; chunk < acknowledged; chunk += 1) {
      expect((await readBack(client, chunk * chunkBytes, chunkBytes)).equals(filled(chunkBytes, chunk + 1)), `chunk ${chunk} reads back`).toBe(true);
    }

    await run("mount", ["-o", `remount,size=${tmpfsSizeGrown}`, mountPoint]);
    for (let chunk = acknowledged; chunk < acknowledged + 2; chunk += 1) {
      expect(await outcome(client.write(chunk * chunkBytes, filled(chunkBytes, chunk + 1), true))).toBe("ok");
    }
    for (let chunk = 0; chunk < acknowledged + 2; chunk += 1) {
      expect((await readBack(client, chunk * chunkBytes, chunkBytes)).equals(filled(chunkBytes, chunk + 1)), `chunk ${chunk} reads back`).toBe(true);
    }
  });

  it("a store whose fsync fails: the change is refused in one line, the appliance keeps serving generation g, and the next change commits once it clears", async () => {
    const control = await controlFile();
    const appliance = await startAppliance({ extraArgs: ["--lu-size", "64MiB"], testFlags: ["--test-disk-faults", control.path] });
    await createVolume(appliance, "before", "4MiB");
    const placedOn = (await listVolumes(appliance))[0]?.extents[0]?.lu;
    const otherLu = placedOn === "lu0" ? "lu1" : "lu0";
    const generation = (): Promise<number> => appliance.cli(["cluster", "status", "--json"]).then((result) => (jsonOfSuccess(result) as { generation: number }).generation);
    const committed = await generation();
    await control.set(["store.slots", "store.slots.log"].map((file) => ({ file, operations: ["sync"], errno: "EIO" })));

    const refused = await appliance.cli(["volume", "create", "after", "--size", "4MiB"]);
    assertOneLineFailure(refused, 1, new RegExp(`^switchyard volume create: the configuration store did not take generation ${committed + 1} and stays at ${committed}: writing slot \\d of \\S+store\\.slots failed: EIO`));
    // A move (a migration of one extent) is refused at the journal entry that would start it.
    const moveRefused = await appliance.cli(["volume", "move", "before", "--extent", "0", "--to", otherLu]);
    assertOneLineFailure(moveRefused, 1, /^switchyard volume move: the configuration store did not take the journal entry that starts move-\S+, so nothing started: .*store\.slots(\.log)? failed: EIO/);
    expect(await generation(), "the last committed generation stands").toBe(committed);
    expect((await listVolumes(appliance)).map((volume) => volume.name)).toEqual(["before"]);
    const client = await host(appliance, "before");
    await client.write(0, filled(4 * kibibyte, 0x55), true);
    await client.close();

    await rm(control.path);
    assertSucceeded(await appliance.cli(["volume", "create", "after", "--size", "4MiB"]));
    expect(await generation()).toBe(committed + 1);
    assertSucceeded(await appliance.cli(["volume", "move", "before", "--extent", "0", "--to", otherLu]));
    const moved = await generation();
    await appliance.stop();
    const restarted = await startAppliance({ dir: appliance.dir, extraArgs: ["--lu-size", "64MiB"] });
    const status = jsonOfSuccess(await restarted.cli(["cluster", "status", "--json"])) as { generation: number };
    expect(status.generation, "the changes after the fault are durable").toBe(moved);
    const volumes = await listVolumes(restarted);
    expect(volumes.map((volume) => volume.name).sort()).toEqual(["after", "before"]);
    expect(volumes.find((volume) => volume.name === "before")?.extents[0]?.lu).toBe(otherLu);
  }, storeCaseTimeoutMs);
});
