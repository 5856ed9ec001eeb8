// Goal: the history checker catches an apparatus that reports drained while
// writes it admitted are still on their way to the disk (the planted bug
// "drain-early" of issue 3), and passes the same run against correct
// apparatuses. On a fast loopback such writes land within a millisecond, so
// the run gives the disk a fixed write latency, as a busy array has: a write
// that has not landed when the device copies the extent is then lost, unless
// the apparatus waited for it. Method: in one process, a real device with its
// gRPC service, two apparatuses on slow-writing backends, a controller, our
// NBD client as the hosts, and moves while they write and read.
import * as grpc from "@grpc/grpc-js";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { History } from "@switchyard/checker";
import { StorageDevice, deviceServiceHandlers } from "@switchyard/device";
import { NbdClient, type BlockIo, type WriteZeroesFlags } from "@switchyard/nbd";
import { temporaryFolder } from "@switchyard/device/testing";
import { LocalBackendSet, VirtualizationApparatus, serveApparatus, type ServedApparatus } from "@switchyard/apparatus";
import { apparatusFaultBehaviours, type ApparatusFault } from "@switchyard/apparatus/testing";
import { ClusterController } from "@switchyard/controller";
import { bindGrpc, loadGrpc } from "@switchyard/proto";
import { stamp } from "./cluster.js";

/** How long every write waits before it reaches the LU file: a busy disk. */
const writeLatencyMs = 15;
const blockBytes = 4096;
const extentBytes = 4 << 20;
const extents = 8;
const blockCount = (extents * extentBytes) / blockBytes;
const writersPerApparatus = 4;
const moves = 16;
/** Runs of the planted bug's case before it counts as not caught: each takes about 2 s. */
const plantedBugRunsMax = 3;

/** An LU whose writes land `writeLatencyMs` after they are sent; reads are not delayed. */
class SlowWrites implements BlockIo {
  readonly sizeBytes: number;
  constructor(private readonly lu: BlockIo) {
    this.sizeBytes = lu.sizeBytes;
  }
  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.lu.read(offsetBytes, into);
  }
  async write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    await sleep(writeLatencyMs);
    await this.lu.write(offsetBytes, data, fua);
  }
  async writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    await sleep(writeLatencyMs);
    await this.lu.writeZeroes(offsetBytes, lengthBytes, flags);
  }
  flush(): Promise<void> {
    return this.lu.flush();
  }
}

interface Run {
  readonly violations: string[];
  readonly committed: number;
  readonly writes: number;
}

/** Writers and a reader on each apparatus while extents move; every operation checked. */
async function movesUnderLoad(controller: ClusterController, apparatuses: readonly ServedApparatus[]): Promise<Run> {
  const history = new History();
  const clients: NbdClient[] = [];
  for (const served of apparatuses) {
    const [host = "", port = ""] = served.nbdAddress.split(":");
    clients.push(await NbdClient.connect({ host, port: Number(port), exportName: "v", timeoutMs: 10_000 }));
  }
  let stop = false;
  let nextValue = 1;
  let writes = 0;
  const writer = async (client: NbdClient): Promise<void> => {
    while (!stop) {
      const block = Math.floor(Math.random() * blockCount);
      const value = nextValue++;
      const record = history.beginWrite(block, value, performance.now());
      await client.write(block * blockBytes, stamp(value, blockBytes), false);
      history.endWrite(record, performance.now(), true);
      writes += 1;
    }
  };
  const reader = async (client: NbdClient): Promise<void> => {
    const into = Buffer.alloc(blockBytes);
    while (!stop) {
      const block = Math.floor(Math.random() * blockCount);
      const startMs = performance.now();
      await client.read(block * blockBytes, into);
      history.read(block, into.readUInt32BE(0), startMs, performance.now());
    }
  };
  const load = clients.flatMap((client) => [...Array.from({ length: writersPerApparatus }, () => writer(client)), reader(client)]);
  let committed = 0;
  try {
    for (let move = 0; move < moves; move += 1) {
      const change = await controller.submitMove("v", move % extents, Math.floor(move / extents) % 2 === 0 ? "lu1" : "lu0");
      if (change.state === "CHANGE_STATE_COMMITTED") committed += 1;
    }
  } finally {
    stop = true;
    await Promise.all(load);
  }
  const into = Buffer.alloc(blockBytes);
  for (const client of clients) {
    for (const block of history.writtenBlocks()) {
      await client.read(block * blockBytes, into);
      history.final(block, into.readUInt32BE(0));
    }
    await client.close();
  }
  return { violations: history.found().map((violation) => `block ${violation.block}: ${violation.kind}: ${violation.detail}`), committed, writes };
}

/** A device, two apparatuses on slow-writing backends (with `fault` planted), a controller and volume v; then the run. */
async function withCluster(fault: ApparatusFault | undefined): Promise<Run> {
  const folder = await temporaryFolder();
  const device = await StorageDevice.open({ dir: folder.path, create: { deviceId: "dev0", luCount: 2, luSizeBytes: 64 << 20, extentSizeBytes: extentBytes } });
  const deviceServer = new grpc.Server();
  deviceServer.addService(loadGrpc().switchyard.v1.Device.service, deviceServiceHandlers(device, { nbdAddress: "", grpcAddress: "", now: () => performance.now() }));
  const devicePort = await bindGrpc(deviceServer, "127.0.0.1", 0);
  const slow = new Map<string, BlockIo>(device.lus.map((lu) => [lu.id, new SlowWrites(lu)]));
  const apparatuses: ServedApparatus[] = [];
  let controller: ClusterController | undefined;
  try {
    for (const id of ["a0", "a1"]) {
      const apparatus = new VirtualizationApparatus({ id, backends: new LocalBackendSet(slow), ...(fault === undefined ? {} : { behaviour: apparatusFaultBehaviours[fault] }) });
      apparatuses.push(await serveApparatus(apparatus, { host: "127.0.0.1", nbdPort: 0, grpcPort: 0 }));
    }
    controller = new ClusterController({
      id: "c",
      address: "",
      deviceAddress: `127.0.0.1:${devicePort}`,
      apparatuses: apparatuses.map((served) => ({ id: served.apparatus.id, grpc: served.grpcAddress, nbd: served.nbdAddress })),
    });
    await controller.start();
    await controller.createVolume("v", extents * extentBytes, "lu0");
    return await movesUnderLoad(controller, apparatuses);
  } finally {
    controller?.close();
    for (const served of apparatuses) await served.close();
    deviceServer.forceShutdown();
    await device.close();
    await folder.remove();
  }
}

describe("writes still on their way to a slow disk when a Hold arrives", () => {
  it("are waited for: every move commits and the checker finds nothing", async () => {
    const run = await withCluster(undefined);
    expect(run.committed).toBe(moves);
    expect(run.writes).toBeGreaterThan(0);
    expect(run.violations).toEqual([]);
  });

  it("are lost by an apparatus that reports drained at once (a planted bug), and the checker says so", async () => {
    // A loss needs a write to the moving extent on its way at a Hold, and no later write to its block: likely in
    // one run, not certain (a CI run starved of CPU made too few writes). Each run is a fresh cluster; the first to
    // show the loss ends the search.
    const runs: Run[] = [];
    while (runs.length < plantedBugRunsMax && !runs.some((run) => run.violations.length > 0)) runs.push(await withCluster("drain-early"));
    expect(runs.map((run) => run.committed)).toEqual(runs.map(() => moves));
    expect(runs.at(-1)?.violations.length, `no loss found in ${runs.length} runs of ${moves} moves`).toBeGreaterThan(0);
  });
});
