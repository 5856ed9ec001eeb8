// Goal: on etcd an apparatus renews its registration with etcd itself, not
// through the storage device (issue 18 item 3, design notes "Not done yet"
// 2(d)), so losing the device does not put the apparatuses out of contact:
// with the device SIGKILLed and left down for more than twice the
// apparatus's lease, every apparatus still answers host I/O as an apparatus
// in contact does. A request to a volume on the dead device fails with EIO
// (its LU is gone), never ESHUTDOWN ("out of contact: no renewal within its
// lease"), and the controller reports no apparatus fenced. Before, every
// apparatus renewed through the device and shut down a lease after its
// death, whatever the volume.
// Method: a real three-member etcd (scripts/etcd-cluster.sh), `device serve
// --etcd` and three `apparatus serve --etcd` processes of the built CLI,
// volume p on the device's lu0; a block written and read back through a2;
// the device SIGKILLed; after twice the lease and a margin, a read through
// each apparatus on a fresh host connection, its error code asserted, and
// the apparatuses' states asked of the controller. Teardown stops every
// process and etcd member.
import { apparatusLeaseMsDefault } from "@switchyard/controller";
import { startEtcdCluster } from "@switchyard/coordination/testing";
import { NbdError } from "@switchyard/nbd";
import { describe, expect, it } from "vitest";
import { assertSucceeded, runCli } from "./appliance.js";
import { etcdCaseParts } from "./etcd-case.js";
import { ProcessCluster, apparatusIds, hostBlockBytes } from "./cluster.js";

/** Past twice the apparatus's lease, with a second for a renewal in flight at the kill and a loaded machine's timers. */
const downMs = 2 * apparatusLeaseMsDefault + 1_000;
/**
 * About 12 to 27 s a run (start 15 to 20 s at a load average of 20, the
 * reads 7 s after the kill, taking under 100 ms); one start during a
 * parallel typecheck and lint of the whole repository took about 80 s.
 */
const testTimeoutMs = 150_000;

const started = etcdCaseParts();

/** The code a request's error carries: an NBD errno name, or the error's message. */
function codeOf(error: unknown): string {
  if (error instanceof NbdError) return error.code;
  return error instanceof Error ? error.message : String(error);
}

describe("apparatuses on etcd when the device dies", () => {
  it("stay in contact past twice their lease: I/O to the dead device's LU fails with EIO, never ESHUTDOWN", async () => {
    const startedAtMs = performance.now();
    const coordinator = await startEtcdCluster();
    started.etcd = coordinator;
    const running = await ProcessCluster.start({
      etcd: coordinator.endpoints,
      luSize: "16MiB",
      deviceArgs: ["--extent-size", "1MiB"],
      extraArgs: Object.fromEntries(apparatusIds.map((id) => [id, ["--processors", "1"]])),
    });
    started.cluster = running;
    assertSucceeded(await runCli(["volume", "create", "p", "--size", "4MiB", "--lu", "lu0", "--endpoint", running.grpc("a1")]));
    await running.waitUntilServing(apparatusIds);
    const block = Buffer.alloc(hostBlockBytes, 0x5a);
    const writer = await running.connect("a2", "p");
    try {
      await writer.write(0, block, true);
      const back = Buffer.alloc(hostBlockBytes);
      await writer.read(0, back);
      expect(back.equals(block)).toBe(true);
    } finally {
      await writer.close();
    }

    const killedAtMs = performance.now();
    await running.killDevice();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    const readsAtMs = performance.now();

    const codes = new Map<string, string>();
    for (const id of apparatusIds) {
      const host = await running.connect(id, "p");
      try {
        await host.read(0, Buffer.alloc(hostBlockBytes));
        codes.set(id, "read");
      } catch (error) {
        codes.set(id, codeOf(error));
      } finally {
        await host.close();
      }
    }
    const ms = (fromMs: number, toMs: number): number => Math.round(toMs - fromMs);
    console.log(`start ${ms(startedAtMs, killedAtMs)} ms, reads ${ms(killedAtMs, readsAtMs)} ms after the kill, took ${ms(readsAtMs, performance.now())} ms: ${JSON.stringify(Object.fromEntries(codes))}`);
    // The device's LU is gone, so no read succeeds; out of contact would say ESHUTDOWN.
    expect(Object.fromEntries(codes), running.stderr()).toEqual(Object.fromEntries(apparatusIds.map((id) => [id, "EIO"])));
    const states = await running.apparatusStates("a1");
    for (const id of apparatusIds) expect(states.get(id), `apparatus ${id}`).not.toBe("APPARATUS_STATUS_FENCED");
  }, testTimeoutMs);
});
