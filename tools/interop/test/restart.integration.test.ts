// Goal: a write that an NBD client has flushed survives a crash of the whole
// appliance (DESIGN.md "No lost write": after FLUSH, across power loss too).
// Method: write patterns with qemu-io and flush, SIGKILL every process of
// `switchyard up` so nothing can be saved on the way down, start it again on
// the same data folder, then check that the volume is still listed with the
// same shape and that qemu-io reads the patterns back through both apparatuses.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  Appliance,
  assertQemuIoClean,
  createVolume,
  extentSizeBytes,
  kibibyte,
  listVolumes,
  mebibyte,
  qemuIo,
  requireTools,
} from "./appliance.js";

const started: Appliance[] = [];
let dataDir: string | undefined;

afterAll(async () => {
  const results = await Promise.allSettled(started.map((appliance) => appliance.stop()));
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  for (const result of results) if (result.status === "rejected") throw result.reason;
});

async function start(dir?: string): Promise<Appliance> {
  const appliance = await Appliance.start(dir === undefined ? {} : { dir });
  started.push(appliance);
  return appliance;
}

describe("restart after a crash", () => {
  it("keeps a flushed volume and its data after SIGKILL and a restart on the same folder", async () => {
    await requireTools(["qemu-io"]);
    const first = await start();
    dataDir = first.dir;
    await createVolume(first, "durable", "16MiB");
    const before = (await listVolumes(first)).find((volume) => volume.name === "durable");
    expect(before?.extents).toHaveLength((16 * mebibyte) / extentSizeBytes);

    const acrossBoundaryBytes = extentSizeBytes - 8 * kibibyte;
    const writes = [`write -P 0x6b 0 ${mebibyte}`, `write -P 0x7c ${acrossBoundaryBytes} 16k`, `write -P 0x8d ${12 * mebibyte} 4k`];
    // NBD proto.md: a FLUSH reply covers every write replied to before it.
    assertQemuIoClean(await qemuIo(first.nbdUri("durable"), [...writes, "flush"]));

    const crash = await first.kill();
    expect(crash.signal).toBe("SIGKILL");

    const second = await start(dataDir);
    expect(second.pid).not.toBe(first.pid);
    // `up` prints a ready-to-use URI for each volume it serves: over TLS with the operator's folder, its default.
    for (const apparatusIndex of [0, 1]) {
      const uri = `${second.nbdUri("durable", apparatusIndex).replace(/^nbd:/, "nbds:")}?tls-certificates=${join(second.dir, "tls", "operator-admin")}`;
      await second.waitForStdout(uri);
      expect(second.stdout, `stdout of switchyard up:\n${second.stdout}`).toContain(uri);
    }
    const after = (await listVolumes(second)).find((volume) => volume.name === "durable");
    // The same volume: same size, each virtual extent on the same storage area.
    expect(after).toEqual(before);

    const reads = [`read -P 0x6b 0 ${mebibyte}`, `read -P 0x7c ${acrossBoundaryBytes} 16k`, `read -P 0x8d ${12 * mebibyte} 4k`, `read -P 0 ${8 * mebibyte} 64k`];
    for (const apparatusIndex of [0, 1]) {
      assertQemuIoClean(await qemuIo(second.nbdUri("durable", apparatusIndex), reads));
    }
  });
});
