// Goal: a device can follow registrations and fences at etcd without any
// apparatus renewal passing through it (issue 18 item 3): a registerKey and
// then a fence by the holder reach a watchRegistrations listener in that
// order, each within a bounded time; a store write reaches it not at all;
// a watch started later learns both from its first read; and a watch goes
// on through a SIGKILL of the etcd leader (the client resumes it, on
// another member if its own died).
// Method: a real three-member etcd (scripts/etcd-cluster.sh through
// startEtcdCluster), each case on its own key prefix; one client holds the
// term and writes, another watches, as a controller and a device would.
// The leader-kill case runs last: the cluster stays one member short.
// Teardown stops the clients and every member.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { etcdCoordination, type Coordination, type RegistrationUpdate } from "../src/index.js";
import { campaignUntilGranted, etcdClusterStartTimeoutMs, etcdClusterStopTimeoutMs, nextState, startEtcdCluster, type EtcdTestCluster } from "../src/testing/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const leaseMs = 3_000;
/** A watch event crosses loopback in milliseconds; this much allows for a loaded shared machine, and is still well within an apparatus's 3 s lease. */
const deliveryMaxMs = 2_000;
/** Long enough for an event to arrive on loopback, were one sent. */
const quietMs = 500;
const pollMs = 20;
/**
 * After the etcd leader's SIGKILL: an election (500 ms timeouts in
 * scripts/etcd-cluster.sh), the holder's Txn retried on a live member, and
 * the client's watch re-established with its backoff if its member died.
 */
const afterFailoverMaxMs = 10_000;

let cluster: EtcdTestCluster | undefined;
const clients: Coordination[] = [];

beforeAll(async () => {
  cluster = await startEtcdCluster();
}, etcdClusterStartTimeoutMs);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await cluster?.stop();
}, etcdClusterStopTimeoutMs);

function connect(keyPrefix: string): Coordination {
  if (cluster === undefined) throw new Error("the etcd cluster did not start");
  const client = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix, now: () => performance.now() });
  clients.push(client);
  return client;
}

/** Collects a watch's updates; `next` waits (bounded) for the next one. */
function listen(client: Coordination): { updates: RegistrationUpdate[]; next: (withinMs: number) => Promise<RegistrationUpdate> } {
  const updates: RegistrationUpdate[] = [];
  let taken = 0;
  if (client.watchRegistrations === undefined) throw new Error("etcd coordination must offer watchRegistrations");
  client.watchRegistrations((update) => updates.push(update));
  return {
    updates,
    next: async (withinMs) => {
      const deadlineMs = performance.now() + withinMs;
      while (updates.length <= taken) {
        if (performance.now() > deadlineMs) throw new Error(`no registration update within ${withinMs} ms`);
        await sleep(pollMs);
      }
      const update = updates[taken];
      taken += 1;
      if (update === undefined) throw new Error("updates are appended in order");
      return update;
    },
  };
}

describe("etcd watchRegistrations", () => {
  it("delivers a registration, then a fence, in order and in time; a store write not at all", { timeout: 30_000 }, async () => {
    const keyPrefix = `/switchyard-test/${randomUUID()}/`;
    const holder = connect(keyPrefix);
    const watched = listen(connect(keyPrefix));
    expect(await watched.next(deliveryMaxMs)).toMatchObject({ states: new Map() });
    const term = await campaignUntilGranted(holder, { id: "c0", address: "127.0.0.1:7000" }, leaseMs);

    const registeredAtMs = performance.now();
    await holder.registerKey(term.token, "a1", "k1");
    const registered = await watched.next(deliveryMaxMs);
    expect(registered.states).toEqual(new Map([["a1", { kind: "registered", registrationKey: "k1" }]]));
    expect(performance.now() - registeredAtMs).toBeLessThan(deliveryMaxMs);

    const fencedAtMs = performance.now();
    await holder.fence(term.token, "a1");
    const fenced = await watched.next(deliveryMaxMs);
    // One update for the fence's Txn (fenced key put, registration deleted at one revision): never half a fence.
    expect(fenced.states).toEqual(new Map([["a1", { kind: "fenced" }]]));
    expect(fenced.revision).toBeGreaterThan(registered.revision);
    expect(performance.now() - fencedAtMs).toBeLessThan(deliveryMaxMs);

    const read = await holder.readStore();
    await holder.writeStore(term.token, read.revision, nextState(read.state, "unrelated"));
    await sleep(quietMs);
    expect(watched.updates).toHaveLength(3);
  });

  it("gives a watch started later every registration and fence in its first update", { timeout: 30_000 }, async () => {
    const keyPrefix = `/switchyard-test/${randomUUID()}/`;
    const holder = connect(keyPrefix);
    const term = await campaignUntilGranted(holder, { id: "c0", address: "127.0.0.1:7000" }, leaseMs);
    await holder.registerKey(term.token, "a1", "k1");
    await holder.registerKey(term.token, "a2", "k2");
    await holder.fence(term.token, "a2");
    const watched = listen(connect(keyPrefix));
    const first = await watched.next(deliveryMaxMs);
    expect(first.states).toEqual(new Map([["a1", { kind: "registered", registrationKey: "k1" }], ["a2", { kind: "fenced" }]]));
    // Then it follows: a re-registration of the fenced one.
    await holder.registerKey(term.token, "a2", "k3");
    expect((await watched.next(deliveryMaxMs)).states).toEqual(new Map([["a2", { kind: "registered", registrationKey: "k3" }]]));
  });

  it("goes on through a SIGKILL of the etcd leader", { timeout: 60_000 }, async () => {
    if (cluster === undefined) throw new Error("the etcd cluster did not start");
    const keyPrefix = `/switchyard-test/${randomUUID()}/`;
    const holder = connect(keyPrefix);
    const watched = listen(connect(keyPrefix));
    await watched.next(deliveryMaxMs);
    const term = await campaignUntilGranted(holder, { id: "c0", address: "127.0.0.1:7000" }, leaseMs);
    await holder.registerKey(term.token, "a1", "k1");
    expect((await watched.next(deliveryMaxMs)).states.get("a1")).toEqual({ kind: "registered", registrationKey: "k1" });

    cluster.kill(await cluster.leader());
    // The 3 s term outlasts the failover (etcd.integration.test.ts); a fresh campaign if it did not.
    const after = await holder.renew(term).catch(() => campaignUntilGranted(holder, { id: "c0", address: "127.0.0.1:7000" }, leaseMs));
    await holder.fence(after.token, "a1");
    // A watch etcd ended is made again from a fresh read, which may come before the fence: a1 still registered there.
    const deadlineMs = performance.now() + afterFailoverMaxMs;
    const seen: unknown[] = [];
    for (;;) {
      const state = (await watched.next(Math.max(0, deadlineMs - performance.now()))).states.get("a1");
      seen.push(state);
      if (state?.kind === "fenced") break;
      expect(state, JSON.stringify(seen)).toEqual({ kind: "registered", registrationKey: "k1" });
    }
  });
});
