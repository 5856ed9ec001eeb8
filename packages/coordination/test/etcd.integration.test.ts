// Goal: the etcd coordination passes the shared suite against a real
// three-member etcd cluster, and election and store go on after an etcd
// follower or the etcd leader is SIGKILLed: the holder renews, writes under
// its token, and a successor after it gets a higher token and a deposed
// write is refused. The follower case starts a cluster of its own.
// Method: scripts/etcd-cluster.sh starts the cluster once for this file
// (startEtcdCluster); each case of the suite gets its own key prefix on it,
// so cases do not see each other. The partition case runs a holder in a
// process of its own (testing/holder-process.ts) and SIGSTOPs it; the
// suite's deposed-holder case already shows etcd itself refusing a
// deposed token's Txn. The vacancy case has a follower told when the
// holder's key goes (etcd's watch), and not when another follower's does;
// a follower ending a dead holder's term (endTerm) is told the same way and
// wins, while the old token can neither renew nor write.
// A store write sent twice (the client retrying a Txn whose answer was
// lost) is taken as the one write when the store holds exactly its bytes.
// The kill case runs last, since the
// cluster stays one member short after it. Teardown stops every member.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { etcdCoordination, renewIntervalMs, type Coordination, type CoordinationStatus } from "../src/index.js";
import {
  campaignUntilGranted,
  coordinationSuite,
  etcdClusterStartTimeoutMs,
  etcdClusterStopTimeoutMs,
  nextState,
  startEtcdCluster,
  type EtcdTestCluster,
} from "../src/testing/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const leaseMs = 2_000;
/** Long enough for a watch event to arrive on loopback, were one sent. */
const vacancyQuietMs = 500;
/**
 * The term in the leader-kill case, the controller's on etcd
 * (etcdControllerLeaseMs): etcd takes one to two election timeouts (500 ms
 * each in scripts/etcd-cluster.sh) to notice its leader is gone, and a
 * renewal waits for the new leader; a term must outlast that and a third of
 * itself, or the holder loses it in every etcd failover.
 */
const failoverLeaseMs = 3_000;
/** How long the follower case asks again for a status showing both survivors healthy. */
const statusSettleMs = 10_000;
const statusPollMs = 250;

function healthOf(status: CoordinationStatus): Map<string, boolean> {
  return new Map(status.members.map((member) => [member.name, member.healthy]));
}

/** Asks `look` until `settled` holds of its answer, or `withinMs` has passed; resolves with the last answer either way. */
async function eventually<Answer>(look: () => Promise<Answer>, settled: (answer: Answer) => boolean, withinMs: number): Promise<Answer> {
  const deadlineMs = performance.now() + withinMs;
  for (;;) {
    const answer = await look();
    if (settled(answer) || performance.now() > deadlineMs) return answer;
    await sleep(statusPollMs);
  }
}
/** Built by the package's build, which turbo runs before its tests. */
const holderProcessPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../dist/testing/holder-process.js");
let cluster: EtcdTestCluster | undefined;

beforeAll(async () => {
  cluster = await startEtcdCluster();
}, etcdClusterStartTimeoutMs);

afterAll(async () => {
  await cluster?.stop();
}, etcdClusterStopTimeoutMs);

interface EtcdClients {
  readonly endpoints: readonly string[];
  readonly keyPrefix: string;
  connect(): Coordination;
  close(): Promise<void>;
}

function clientFactory(): EtcdClients {
  if (cluster === undefined) throw new Error("the etcd cluster did not start");
  const endpoints = cluster.endpoints;
  const keyPrefix = `/switchyard-test/${randomUUID()}/`;
  const clients: Coordination[] = [];
  return {
    endpoints,
    keyPrefix,
    connect: () => {
      const client = etcdCoordination({ endpoints, keyPrefix, now: () => performance.now() });
      clients.push(client);
      return client;
    },
    close: async () => {
      await Promise.all(clients.map((client) => client.close()));
    },
  };
}

coordinationSuite({ describe, it, expect }, {
  name: "etcd (three members)",
  leaseMs,
  caseTimeoutMs: 30_000,
  fresh: () => Promise.resolve(clientFactory()),
});

/** Reads the holder process's JSON lines as they come. */
function eventsOf(child: ChildProcess): { next: (event: string, timeoutMs: number) => Promise<Record<string, unknown>> } {
  const lines: Record<string, unknown>[] = [];
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const part of parts) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  return {
    next: async (event, timeoutMs) => {
      const deadlineMs = performance.now() + timeoutMs;
      for (;;) {
        const index = lines.findIndex((line) => line.event === event);
        if (index >= 0) return lines.splice(0, index + 1)[index] ?? {};
        if (performance.now() > deadlineMs || child.exitCode !== null) throw new Error(`no ${event} from the holder process within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
  };
}

describe("etcd coordination when a store write is sent twice (the etcd client's retry of a Txn whose answer was lost)", () => {
  it("takes the second copy of a landed write as that write, and still refuses a different one", { timeout: 30_000 }, async () => {
    const clients = clientFactory();
    try {
      const holder = clients.connect();
      const term = await campaignUntilGranted(holder, { id: "a0", address: "127.0.0.1:7000" }, leaseMs);
      const read = await holder.readStore();
      const next = nextState(read.state, "first");
      const landed = await holder.writeStore(term.token, read.revision, next);
      // The same bytes under the same revision again: what the client sends when the first answer was lost.
      expect(await holder.writeStore(term.token, read.revision, next)).toBe(landed);
      const other = nextState(read.state, "other");
      await expect(holder.writeStore(term.token, read.revision, other)).rejects.toMatchObject({ code: "STALE_REVISION" });
      expect((await holder.readStore()).state.apparatuses.map((record) => record.id)).toContain("first");
    } finally {
      await clients.close();
    }
  });
});

describe("etcd coordination when the holder is partitioned by SIGSTOP", () => {
  it("lets a successor take over; the resumed holder finds its term lost and its write refused", { timeout: 60_000 }, async () => {
    const under = clientFactory();
    const child = spawn(process.execPath, [holderProcessPath, under.endpoints.join(","), under.keyPrefix, String(leaseMs)],
      { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const events = eventsOf(child);
      const granted = await events.next("granted", 20_000);
      const wrote = await events.next("wrote", 10_000);
      child.kill("SIGSTOP");
      const successor = under.connect();
      const next = await campaignUntilGranted(successor, { id: "bob", address: "127.0.0.1:7002" }, leaseMs);
      expect(next.token).toBeGreaterThan(Number(granted.token));
      const read = await successor.readStore();
      expect(read.revision).toBe(wrote.revision);
      const written = await successor.writeStore(next.token, read.revision, nextState(read.state, "successor"));
      child.kill("SIGCONT");
      // Its first renewal after the pause is past its term's end: it stops acting.
      expect(await events.next("lost", 10_000)).toMatchObject({ code: "LEASE_LOST" });
      expect(await events.next("late-write", 10_000)).toMatchObject({ code: "NOT_HOLDER" });
      const after = await successor.readStore();
      expect(after.revision).toBe(written);
      expect(after.state.apparatuses.map((record) => record.id)).toEqual(["holder-process", "successor"]);
    } finally {
      child.kill("SIGKILL");
      await under.close();
    }
  });
});

describe("etcd coordination telling followers that the holder's term ended", () => {
  it("calls a follower's listener when the holder's key goes, not when another follower withdraws", { timeout: 30_000 }, async () => {
    const under = clientFactory();
    try {
      const [holder, follower, other] = [under.connect(), under.connect(), under.connect()];
      const held = await campaignUntilGranted(holder, { id: "alice", address: "127.0.0.1:7001" }, leaseMs);
      let vacancies = 0;
      const stop = follower.onVacancy?.(() => { vacancies += 1; });
      expect(stop).toBeDefined();
      const bob = { id: "bob", address: "127.0.0.1:7002" };
      expect((await follower.campaign(bob, leaseMs)).granted).toBe(false);
      // A lost campaign revokes the loser's own key at once: a deletion, not a vacancy.
      expect((await other.campaign({ id: "carol", address: "127.0.0.1:7003" }, leaseMs)).granted).toBe(false);
      await sleep(vacancyQuietMs);
      expect(vacancies).toBe(0);
      const endedAtMs = performance.now();
      await holder.close();
      while (vacancies === 0 && performance.now() - endedAtMs < leaseMs) await sleep(10);
      // Told well before a campaign step (a third of the term) would have looked.
      expect(vacancies).toBe(1);
      expect(performance.now() - endedAtMs).toBeLessThan(renewIntervalMs(leaseMs));
      const next = await follower.campaign(bob, leaseMs);
      expect(next).toMatchObject({ granted: true, holderId: "bob" });
      expect(next.token).toBeGreaterThan(held.token);
      stop?.();
    } finally {
      await under.close();
    }
  });
});

describe("etcd coordination ending a dead holder's term", () => {
  it("ends the holder's term at once for a follower: the follower is told, wins, and the old token can neither renew nor write", { timeout: 30_000 }, async () => {
    const under = clientFactory();
    try {
      const [holder, follower] = [under.connect(), under.connect()];
      const held = await campaignUntilGranted(holder, { id: "alice", address: "127.0.0.1:7001" }, leaseMs);
      let vacancies = 0;
      const stop = follower.onVacancy?.(() => { vacancies += 1; });
      const bob = { id: "bob", address: "127.0.0.1:7002" };
      expect((await follower.campaign(bob, leaseMs)).granted).toBe(false);
      // Only the term it names: a token that does not hold is left alone.
      expect(await follower.endTerm?.(held.token + 1)).toBe(false);
      expect(await follower.endTerm?.(held.token)).toBe(true);
      const endedAtMs = performance.now();
      while (vacancies === 0 && performance.now() - endedAtMs < leaseMs) await sleep(10);
      expect(vacancies).toBe(1);
      const next = await follower.campaign(bob, leaseMs);
      expect(next).toMatchObject({ granted: true, holderId: "bob" });
      expect(next.token).toBeGreaterThan(held.token);
      // The old holder, were it alive after all: its term is lost and its write refused.
      await expect(holder.renew(held)).rejects.toMatchObject({ code: "LEASE_LOST" });
      await expect(holder.commitDelta(held.token, { journal_entry: { change_id: "late", kind: "move", state: "CHANGE_STATE_RUNNING" } })).rejects.toMatchObject({ code: "NOT_HOLDER" });
      stop?.();
    } finally {
      await under.close();
    }
  });
});

describe("etcd coordination when an etcd follower dies", () => {
  it("keeps the controller's term and the store going on the two members left", { timeout: 90_000 }, async () => {
    // A cluster of its own: the leader-kill case below needs all three members.
    const own = await startEtcdCluster();
    const keyPrefix = `/switchyard-test/${randomUUID()}/`;
    const holder = etcdCoordination({ endpoints: own.endpoints, keyPrefix, now: () => performance.now() });
    try {
      // The controller's term on etcd: a busy CI machine stalls etcd's fsyncs for a second or more.
      let term = await holder.campaign({ id: "alice", address: "127.0.0.1:7001" }, failoverLeaseMs);
      const leader = await own.leader();
      const follower = own.members.find((member) => member !== leader);
      if (follower === undefined) throw new Error("a three-member cluster has followers");
      own.kill(follower);
      // Renewals that pick the dead member try another within the term.
      let revision = (await holder.readStore()).revision;
      const killedAtMs = performance.now();
      while (performance.now() - killedAtMs < 3 * failoverLeaseMs) {
        await sleep(renewIntervalMs(failoverLeaseMs));
        const sinceKillMs = Math.round(performance.now() - killedAtMs);
        term = await holder.renew(term).catch((error: unknown) => {
          throw new Error(`renewal ${sinceKillMs} ms after the kill: ${String(error)}`);
        });
        const read = await holder.readStore();
        expect(read.revision, `store read ${sinceKillMs} ms after the kill`).toBe(revision);
        revision = await holder.writeStore(term.token, read.revision, nextState(read.state, `write-${revision}`));
      }
      // A member that misses a status call's deadline is shown unhealthy, rightly; a loaded survivor answers the next one.
      const alive = new Map(own.members.map((member) => [member.name, member.alive]));
      const status = await eventually(() => holder.status(), (answer) => isDeepStrictEqual(healthOf(answer), alive), statusSettleMs);
      expect(healthOf(status)).toEqual(alive);
    } finally {
      await holder.close();
      await own.stop();
    }
  });
});

describe("etcd coordination when the etcd leader dies", () => {
  it("keeps the holder's term and store, then hands over with a higher token", { timeout: 60_000 }, async () => {
    if (cluster === undefined) throw new Error("the etcd cluster did not start");
    const under = clientFactory();
    try {
      const holder = under.connect();
      const successor = under.connect();
      let term = await holder.campaign({ id: "alice", address: "127.0.0.1:7001" }, failoverLeaseMs);
      expect(term.granted).toBe(true);
      const read = await holder.readStore();
      const leader = await cluster.leader();
      cluster.kill(leader);
      // Renewing at a third of the lease carries the term across the election at etcd.
      const killedAtMs = performance.now();
      while (performance.now() - killedAtMs < 2 * failoverLeaseMs) {
        await new Promise((resolve) => setTimeout(resolve, renewIntervalMs(failoverLeaseMs)));
        term = await holder.renew(term);
      }
      const written = await holder.writeStore(term.token, read.revision, nextState(read.state, "after-kill"));
      expect(written).toBeGreaterThan(read.revision);
      expect((await cluster.leader()).name).not.toBe(leader.name);
      // etcd lists members by id: compare by name. A loaded survivor may miss one status call's deadline.
      const alive = new Map(cluster.members.map((member) => [member.name, member.alive]));
      const status = await eventually(() => holder.status(), (answer) => isDeepStrictEqual(healthOf(answer), alive), statusSettleMs);
      expect(healthOf(status)).toEqual(alive);
      expect(status.members.find((member) => member.leader)?.name).toBe((await cluster.leader()).name);
      // The holder stops renewing: the successor takes over with a higher token.
      const next = await campaignUntilGranted(successor, { id: "bob", address: "127.0.0.1:7002" }, failoverLeaseMs);
      expect(next.token).toBeGreaterThan(term.token);
      const now = await successor.readStore();
      expect(now.revision).toBe(written);
      await expect(holder.writeStore(term.token, now.revision, nextState(now.state, "deposed"))).rejects.toMatchObject({ code: "NOT_HOLDER" });
      expect(await successor.writeStore(next.token, now.revision, nextState(now.state, "successor"))).toBeGreaterThan(written);
    } finally {
      await under.close();
    }
  });
});
