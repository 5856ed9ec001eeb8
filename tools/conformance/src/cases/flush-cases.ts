/**
 * What a FLUSH covers (NBD proto.md NBD_CMD_FLUSH and NBD_FLAG_CAN_MULTI_CONN;
 * DESIGN.md "The I/O path": a FLUSH makes durable every write completed
 * before it on any connection). The suite's own device counts the FLUSHes
 * each LU gets, so a case sees which LUs a host's FLUSH reached: every LU
 * its volume maps, after a rejoin too (the apparatus reopens its LUs then),
 * and from a connection that wrote nothing when another one wrote.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { NBD_FLAG_CAN_MULTI_CONN, type NbdClient } from "@switchyard/nbd";
import { expectThat } from "../check.js";
import type { CaseContext } from "../context.js";
import { baselineTable, stamp, type Area, type TestVolume } from "../layout.js";
import type { SlowDisk } from "../suite-device.js";
import { apparatusLeaseMs } from "../suite-controller.js";
import type { ConformanceCase } from "./case.js";

/** A fenced apparatus stops serving within its lease; this much more covers a renewal in flight. */
const fenceSlackMs = 500;

/** Offsets in `volume` of one extent on each LU it maps, with the LU's id. */
function oneExtentPerLu(context: CaseContext, volume: TestVolume): { luId: string; offsetBytes: number }[] {
  const seen = new Map<number, { luId: string; offsetBytes: number }>();
  volume.areas.forEach((area: Area, extentIndex) => {
    if (seen.has(area.luIndex)) return;
    const lu = context.layout.lus.find((candidate) => candidate.index === area.luIndex);
    if (lu !== undefined) seen.set(area.luIndex, { luId: lu.id, offsetBytes: extentIndex * context.layout.extentSizeBytes });
  });
  return [...seen.values()];
}

/** Writes to one extent on each LU of `volume` through `writer`, FLUSHes through `flusher`, and checks each LU got a FLUSH after. */
async function expectFlushReachesEveryLu(context: CaseContext, disk: SlowDisk, writer: NbdClient, flusher: NbdClient, what: string): Promise<void> {
  const volume = context.longVolume();
  const targets = oneExtentPerLu(context, volume);
  expectThat(targets.length >= 2, `precondition: the long volume maps ${targets.length} LU (the device needs two)`);
  for (const target of targets) await writer.write(target.offsetBytes, stamp(context.nextStamp()));
  const before = new Map(targets.map((target) => [target.luId, disk.flushes.get(target.luId) ?? 0]));
  await flusher.flush();
  for (const target of targets) {
    const after = disk.flushes.get(target.luId) ?? 0;
    expectThat(after > (before.get(target.luId) ?? 0), `${what}: the FLUSH did not reach LU ${target.luId}, where a write it covers landed`);
  }
}

async function flushEveryLuCase(context: CaseContext): Promise<void> {
  const disk = context.ownDisk("seeing which LUs a FLUSH reaches");
  const client = await context.connectHost(context.longVolume().name);
  try {
    await expectFlushReachesEveryLu(context, disk, client, client, "a FLUSH of a volume on two LUs");
  } finally {
    await client.close();
  }
}

async function flushAfterRejoinCase(context: CaseContext): Promise<void> {
  const disk = context.ownDisk("seeing which LUs a FLUSH reaches");
  const { controller } = context;
  await controller.fence();
  await sleep(apparatusLeaseMs + fenceSlackMs);
  // Rejoin (DESIGN.md): the whole current table, then a fresh registration.
  await controller.loadTable(baselineTable(context.layout, context.generation));
  await controller.register();
  const client = await context.connectHost(context.longVolume().name);
  try {
    await expectFlushReachesEveryLu(context, disk, client, client, "a FLUSH after a rejoin");
  } finally {
    await client.close();
  }
}

async function multiConnCase(context: CaseContext): Promise<void> {
  const disk = context.ownDisk("seeing which LUs a FLUSH reaches");
  const name = context.longVolume().name;
  const [writer, flusher] = [await context.connectHost(name), await context.connectHost(name)];
  try {
    expectThat((writer.transmissionFlags & NBD_FLAG_CAN_MULTI_CONN) !== 0, "the features file declares multi-conn, but the export does not advertise NBD_FLAG_CAN_MULTI_CONN");
    const value = context.nextStamp();
    await writer.write(0, stamp(value));
    expectThat((await context.readStamp(flusher, 0)) === value, "a write completed on one connection does not read back on another");
    await expectFlushReachesEveryLu(context, disk, writer, flusher, "a FLUSH on one connection after writes completed on another");
  } finally {
    await Promise.all([writer.close(), flusher.close()]);
  }
}

export const flushCases: readonly ConformanceCase[] = [
  { id: "nbd-flush-every-lu", title: "a FLUSH reaches every LU the volume maps", checks: "NBD proto.md NBD_CMD_FLUSH; DESIGN.md \"The I/O path\" (FLUSH makes every completed write durable)", run: flushEveryLuCase },
  { id: "nbd-flush-after-rejoin", title: "after a rejoin, a FLUSH still reaches every LU", checks: "claim 3 and DESIGN.md rejoin (LoadTable, Register); NBD proto.md NBD_CMD_FLUSH", run: flushAfterRejoinCase },
  { id: "nbd-multi-conn", title: "a FLUSH on one connection covers writes completed on another", checks: "NBD proto.md NBD_FLAG_CAN_MULTI_CONN; DESIGN.md \"The I/O path\" (no cache, multi-conn)", needs: ["multi-conn"], run: multiConnCase },
];
