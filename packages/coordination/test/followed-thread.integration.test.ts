// Goal: a follower's etcd client on a thread of its own (followed-thread.ts,
// issue 20 item 3) answers as the client on the caller's thread does: the
// same store (decoded from the same bytes), registration states, lease
// holder, watch updates in order, and the same CoordinationError codes; a
// watch stopped hears nothing more; every call is bounded (an etcd that is
// not there fails with UNAVAILABLE within etcd's own deadlines); a closed
// client refuses calls and its thread ends.
// Method: a real three-member etcd (scripts/etcd-cluster.sh); one client on
// the test's thread holds the term and writes, as a controller would, and
// answers each read beside the thread client.
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoordinationError, etcdCoordination, followedAnswerTimeoutMs, followedEtcdOnThread, type Coordination, type FollowedClient, type RegistrationUpdate, type Term } from "../src/index.js";
import { campaignUntilGranted, etcdClusterStartTimeoutMs, etcdClusterStopTimeoutMs, nextState, startEtcdCluster, type EtcdTestCluster } from "../src/testing/index.js";

const leaseMs = 6_000;
/** A watch event crosses loopback and a MessagePort in milliseconds; this allows for a loaded machine. */
const deliveryMaxMs = 2_000;
/** Long enough for an update to arrive, were one sent. */
const quietMs = 500;
const pollMs = 20;
const caseTimeoutMs = 30_000;

let cluster: EtcdTestCluster;
let holder: Coordination;
let term: Term;
let threaded: FollowedClient;
let keyPrefix: string;

beforeAll(async () => {
  cluster = await startEtcdCluster();
  keyPrefix = `followed-thread-${randomUUID()}/`;
  holder = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix, now: () => performance.now() });
  threaded = followedEtcdOnThread({ endpoints: cluster.endpoints, keyPrefix });
  term = await campaignUntilGranted(holder, { id: "c0", address: "127.0.0.1:7000" }, leaseMs);
}, etcdClusterStartTimeoutMs);

afterAll(async () => {
  await Promise.all([holder.close(), threaded.close()]);
  await cluster.stop();
}, etcdClusterStopTimeoutMs);

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (caught: unknown) => caught);
}

async function waitFor(updates: readonly RegistrationUpdate[], count: number): Promise<void> {
  const deadlineMs = performance.now() + deliveryMaxMs;
  while (updates.length < count) {
    if (performance.now() > deadlineMs) throw new Error(`${updates.length} of ${count} registration updates within ${deliveryMaxMs} ms`);
    await sleep(pollMs);
  }
}

describe("a follower's etcd client on its own thread", () => {
  it("reads the store, registrations and the lease holder as the client on this thread does", { timeout: caseTimeoutMs }, async () => {
    const before = await holder.readStore();
    await holder.writeStore(term.token, before.revision, nextState(before.state, "threaded"));
    await holder.registerKey(term.token, "a1", "k1");
    await holder.registerKey(term.token, "a2", "k2");
    await holder.fence(term.token, "a2");

    const [direct, relayed] = await Promise.all([holder.readStore(), threaded.readStore()]);
    expect(relayed).toEqual(direct);
    expect(relayed.revision).toBeGreaterThan(before.revision);
    expect(await threaded.registrationStatus("a1", "k1")).toBe("granted");
    expect(await threaded.registrationStatus("a1", "not-k1")).toBe("unknown");
    expect(await threaded.registrationStatus("a2", "k2")).toBe("fenced");
    expect(await threaded.registrationStatus("a3", "k3")).toBe("unknown");
    expect(await threaded.leaseHolder()).toEqual(await holder.leaseHolder());
    expect(await threaded.leaseHolder()).toEqual({ holderId: "c0", epoch: term.token });
  });

  it("keeps a CoordinationError's code and message", { timeout: caseTimeoutMs }, async () => {
    const badId = "a/1";
    const direct = await failureOf(holder.registrationStatus(badId, "k"));
    const relayed = await failureOf(threaded.registrationStatus(badId, "k"));
    expect(relayed).toBeInstanceOf(CoordinationError);
    expect(direct).toBeInstanceOf(CoordinationError);
    expect((relayed as CoordinationError).code).toBe("INVALID_ARGUMENT");
    expect((relayed as CoordinationError).message).toBe((direct as CoordinationError).message);
  });

  it("delivers watch updates in order, and nothing once the watch is stopped", { timeout: caseTimeoutMs }, async () => {
    const updates: RegistrationUpdate[] = [];
    const watchRegistrations = threaded.watchRegistrations?.bind(threaded);
    if (watchRegistrations === undefined) throw new Error("the thread client must watch registrations");
    const stop = watchRegistrations((update) => updates.push(update));
    await waitFor(updates, 1);
    expect(updates[0]?.complete).toBe(true);
    expect(updates[0]?.states.get("a1")).toEqual({ kind: "registered", registrationKey: "k1" });

    await holder.registerKey(term.token, "a4", "k4");
    await waitFor(updates, 2);
    expect(updates[1]?.states).toEqual(new Map([["a4", { kind: "registered", registrationKey: "k4" }]]));
    await holder.fence(term.token, "a4");
    await waitFor(updates, 3);
    expect(updates[2]?.states).toEqual(new Map([["a4", { kind: "fenced" }]]));
    expect(updates[2]?.revision).toBeGreaterThan(updates[1]?.revision ?? Infinity);

    stop();
    await sleep(quietMs);
    await holder.registerKey(term.token, "a5", "k5");
    await sleep(quietMs);
    expect(updates).toHaveLength(3);
  });

  it("fails a call with UNAVAILABLE, in bounded time, when etcd is not there", { timeout: caseTimeoutMs }, async () => {
    // A port that was free a moment ago: nothing answers there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const address = probe.address();
        probe.close(() => { resolve(typeof address === "object" && address !== null ? address.port : 0); });
      });
    });
    const lonely = followedEtcdOnThread({ endpoints: [`http://127.0.0.1:${port}`], keyPrefix });
    try {
      const startedMs = performance.now();
      const failure = await failureOf(lonely.readStore());
      expect(failure).toBeInstanceOf(CoordinationError);
      expect((failure as CoordinationError).code).toBe("UNAVAILABLE");
      expect(performance.now() - startedMs).toBeLessThan(followedAnswerTimeoutMs + 1_000);
    } finally {
      await lonely.close();
    }
  });

  it("refuses calls once closed, and closes twice without harm", { timeout: caseTimeoutMs }, async () => {
    const client = followedEtcdOnThread({ endpoints: cluster.endpoints, keyPrefix });
    expect(await client.leaseHolder()).toEqual({ holderId: "c0", epoch: term.token });
    await client.close();
    await client.close();
    const failure = await failureOf(client.readStore());
    expect(failure).toBeInstanceOf(CoordinationError);
    expect((failure as CoordinationError).code).toBe("UNAVAILABLE");
    expect((failure as CoordinationError).message).toMatch(/closed/);
  });
});
