// Goal: a storage device that follows etcd (DeviceOpenOptions.coordination)
// is storage only (issue 18 item 3): it takes the etcd holder's token as the
// epoch and refuses a lower one; it follows etcd's registrations and fences
// by a watch, with no renewal passing through it, and still answers an
// apparatus's renewal as etcd says; it starts a mirror only
// when etcd's table has it, and a commit on etcd that ends a mirror ends it
// on the device too, so the same extent can be moved back at once, and a
// scrub of its old source writes nothing into its new home.
// Method: a real three-member etcd (scripts/etcd-cluster.sh) and a real
// device in a temporary folder whose followed coordination is an etcd
// client on a thread of its own, as `up --etcd` and `device serve --etcd`
// run it (followed-thread.ts); the holder is a second client, seeded with the device's own store
// (its LU list), as `up --etcd` would seed a fresh prefix.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { StorageDevice, type LogicalUnit } from "@switchyard/device";
import { temporaryFolder, testDeviceCreateOptions, type TemporaryFolder } from "@switchyard/device/testing";
import type { StoreDelta } from "@switchyard/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdCoordination, followedEtcdOnThread, type Coordination, type FollowedClient, type Term } from "../src/index.js";
import { etcdClusterStartTimeoutMs, etcdClusterStopTimeoutMs, startEtcdCluster, type EtcdTestCluster } from "../src/testing/index.js";

const leaseMs = 6_000;
const extentSizeBytes = testDeviceCreateOptions.extentSizeBytes;
/** A 1 MiB area copies in well under a second; a loaded machine gets ten. */
const syncWaitMs = 10_000;
const caseTimeoutMs = 30_000;

let cluster: EtcdTestCluster;
let folder: TemporaryFolder;
let device: StorageDevice;
let holder: Coordination;
let followed: FollowedClient;
let term: Term;

beforeAll(async () => {
  cluster = await startEtcdCluster();
  const prefix = `followed-${randomUUID()}/`;
  const now = (): number => performance.now();
  holder = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix: prefix, now });
  followed = followedEtcdOnThread({ endpoints: cluster.endpoints, keyPrefix: prefix });
  folder = await temporaryFolder("switchyard-followed-");
  device = await StorageDevice.open({ dir: folder.path, create: testDeviceCreateOptions, coordination: followed });
  term = await holder.campaign({ id: "controller", address: "127.0.0.1:7000" }, leaseMs);
  await holder.writeStore(term.token, 0, device.readStore().state);
}, etcdClusterStartTimeoutMs);

afterAll(async () => {
  await device.close();
  await Promise.all([holder.close(), followed.close()]);
  await folder.remove();
  await cluster.stop();
}, etcdClusterStopTimeoutMs);

/** A watch event crosses loopback in milliseconds; this allows for a loaded machine and stays within an apparatus's 3 s lease. */
const followMaxMs = 2_000;
const followPollMs = 20;

/** Reads `look` until `settled` holds or followMaxMs passed; the last reading either way. */
async function refusalWithin(look: () => string | undefined, settled: (refusal: string | undefined) => boolean): Promise<string | undefined> {
  const deadlineMs = performance.now() + followMaxMs;
  for (;;) {
    const refusal = look();
    if (settled(refusal) || performance.now() > deadlineMs) return refusal;
    await sleep(followPollMs);
  }
}

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  const error: unknown = await promise.then(() => undefined, (caught: unknown) => caught);
  return error instanceof Error && "code" in error ? error.code : error;
}

/** Extent 0 of `volume` (v unless named) on `from` area `fromArea`, in mirror state towards `to` area `toArea`. */
function mirrorDelta(generation: number, from: number, fromArea: number, to: number, toArea: number, created: boolean, volume = "v"): StoreDelta {
  return {
    diff: {
      base_generation: generation, generation: generation + 1,
      shapes: created ? [] : [{ name: volume, size_bytes: extentSizeBytes, extent_size_bytes: extentSizeBytes, extent_count: 1 }],
      rows: [{ volume, extent_index: 0, lu_index: from, area_index: fromArea, mirror_lu_index_plus_one: to + 1, mirror_area_index: toArea }],
    },
  };
}

function switchDelta(generation: number, to: number, toArea: number, volume = "v"): StoreDelta {
  return { diff: { base_generation: generation, generation: generation + 1, rows: [{ volume, extent_index: 0, lu_index: to, area_index: toArea }] } };
}

async function startAndSync(from: string, fromArea: number, to: string, toArea: number, volume = "v"): Promise<void> {
  const spec = { volume, extentIndex: 0, sourceLuId: from, sourceAreaIndex: fromArea, destinationLuId: to, destinationAreaIndex: toArea };
  await device.startMirror(term.token, { ...spec, watermarkBytes: 0, group: "move", rateBytesPerSecond: 0 });
  const deadlineMs = performance.now() + syncWaitMs;
  while (device.mirrors.list().find((mirror) => mirror.volume === volume && mirror.extentIndex === 0)?.synced !== true) {
    if (performance.now() > deadlineMs) throw new Error(`the mirror ${from}/${fromArea} -> ${to}/${toArea} did not sync within ${syncWaitMs} ms`);
    await sleep(50);
  }
}

describe("a device that follows etcd", () => {
  it("takes the holder's token as its epoch and refuses a lower one", { timeout: caseTimeoutMs }, async () => {
    await device.scrubAreas(term.token, "lu0", [15]);
    expect(await codeOf(device.scrubAreas(term.token - 1, "lu0", [15]))).toBe("STALE_EPOCH");
  });

  it("follows registrations and fences at etcd with no renewal through it, and answers renewals as etcd says", { timeout: caseTimeoutMs }, async () => {
    expect(device.ioRefusal("a1", "k1")).toMatch(/no registration/);
    await holder.registerKey(term.token, "a1", "k1");
    // The device's watch, not a renewal, lets the I/O through (issue 18 item 3).
    expect(await refusalWithin(() => device.ioRefusal("a1", "k1"), (refusal) => refusal === undefined)).toBeUndefined();
    expect(await device.renewRegistration("a1", "k1")).toBe("granted");
    await holder.fence(term.token, "a1");
    expect(await refusalWithin(() => device.ioRefusal("a1", "k1"), (refusal) => refusal !== undefined)).toMatch(/fenced/);
    expect(await device.renewRegistration("a1", "k1")).toBe("fenced");
  });

  it("starts a mirror only from etcd's table, and ends it once a commit on etcd switches the extent", { timeout: caseTimeoutMs }, async () => {
    const lus = (await holder.readStore()).state.lus;
    const index = (id: string): number => lus.find((lu) => lu.id === id)?.index ?? -1;
    const spec = { volume: "v", extentIndex: 0, sourceLuId: "lu0", sourceAreaIndex: 1, destinationLuId: "lu1", destinationAreaIndex: 2, watermarkBytes: 0, group: "move", rateBytesPerSecond: 0 };
    expect(await codeOf(device.startMirror(term.token, spec))).toBe("INVALID_ARGUMENT");
    let generation = (await holder.readStore()).state.generation;
    await holder.commitDelta(term.token, mirrorDelta(generation, index("lu0"), 1, index("lu1"), 2, false));
    generation += 1;
    await startAndSync("lu0", 1, "lu1", 2);
    await holder.commitDelta(term.token, switchDelta(generation, index("lu1"), 2));
    generation += 1;
    // Back at once: the device learns from etcd's table that the first mirror ended.
    await holder.commitDelta(term.token, mirrorDelta(generation, index("lu1"), 2, index("lu0"), 3, true));
    await startAndSync("lu1", 2, "lu0", 3);
    expect(device.mirrors.list().map((mirror) => [mirror.sourceLuId, mirror.destinationLuId])).toEqual([["lu1", "lu0"]]);
  });

  it("writes nothing through a mirror etcd's table ended when its old source is scrubbed for a new owner", { timeout: caseTimeoutMs }, async () => {
    const lus = (await holder.readStore()).state.lus;
    const index = (id: string): number => lus.find((lu) => lu.id === id)?.index ?? -1;
    const lu = (id: string): LogicalUnit => device.lus.find((candidate) => candidate.id === id) as LogicalUnit;
    const [lu0, lu1] = [lu("lu0"), lu("lu1")];
    const areaBytes = lu0.extentSizeBytes;
    await lu0.write(lu0.areaOffsetBytes(5), Buffer.alloc(areaBytes, 0x11), true);
    let generation = (await holder.readStore()).state.generation;
    await holder.commitDelta(term.token, mirrorDelta(generation, index("lu0"), 5, index("lu1"), 6, false, "w"));
    generation += 1;
    await startAndSync("lu0", 5, "lu1", 6, "w");
    await holder.commitDelta(term.token, switchDelta(generation, index("lu1"), 6, "w"));
    // Written to the extent's new home; then lu0 area 5, free on etcd, is scrubbed for a volume about to take it.
    const home = Buffer.alloc(areaBytes, 0x22);
    await lu1.write(lu1.areaOffsetBytes(6), home, true);
    await device.scrubAreas(term.token, "lu0", [5]);
    const read = Buffer.alloc(areaBytes);
    await lu1.read(lu1.areaOffsetBytes(6), read);
    expect(read.equals(home)).toBe(true);
  });
});
