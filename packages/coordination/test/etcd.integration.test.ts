// Goal: the etcd coordination passes the shared suite against a real
// three-member etcd cluster, and election and store go on after the etcd
// leader is SIGKILLed: the holder renews, writes under its token, and a
// successor after it gets a higher token and a deposed write is refused.
// Method: scripts/etcd-cluster.sh starts the cluster once for this file
// (startEtcdCluster); each case of the suite gets its own key prefix on it,
// so cases do not see each other. The kill case runs last, since the
// cluster stays one member short after it. Teardown stops every member.
import { randomUUID } from "node:crypto";
import { etcdCoordination, renewIntervalMs, type Coordination } from "../src/index.js";
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
/**
 * The term in the leader-kill case: etcd takes one to two election timeouts
 * (1 s each in scripts/etcd-cluster.sh) to notice its leader is gone, and a
 * renewal waits for the new leader; a term must outlast that and a third of
 * itself, or the holder loses it in every etcd failover.
 */
const failoverLeaseMs = 6_000;
let cluster: EtcdTestCluster | undefined;

beforeAll(async () => {
  cluster = await startEtcdCluster();
}, etcdClusterStartTimeoutMs);

afterAll(async () => {
  await cluster?.stop();
}, etcdClusterStopTimeoutMs);

function clientFactory(): { connect: () => Coordination; close: () => Promise<void> } {
  if (cluster === undefined) throw new Error("the etcd cluster did not start");
  const endpoints = cluster.endpoints;
  const keyPrefix = `/switchyard-test/${randomUUID()}/`;
  const clients: Coordination[] = [];
  return {
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
