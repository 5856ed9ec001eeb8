// Goal: an appliance's store moves onto etcd intact (volumes' tables,
// journal, apparatus records, generation), and every etcd holder's token is
// above every epoch the embedded arbiter granted, so apparatuses and devices
// that keep the highest epoch they saw take the etcd controller's requests.
// Method: a real device behind the Device service (embedded-device.ts)
// written through the embedded coordination, a real three-member etcd
// cluster started for this file; importStoreToEtcd, then the etcd
// coordination reads the store and campaigns. A second import into the
// same prefix must be refused and change nothing.
import { randomUUID } from "node:crypto";
import type { StoreState } from "@switchyard/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdCoordination, importStoreToEtcd, type Coordination } from "../src/index.js";
import {
  campaignUntilGranted,
  etcdClusterStartTimeoutMs,
  etcdClusterStopTimeoutMs,
  nextState,
  startEtcdCluster,
  type EtcdTestCluster,
} from "../src/testing/index.js";
import { freshEmbeddedCoordinator } from "./embedded-device.js";

const leaseMs = 2_000;
let cluster: EtcdTestCluster | undefined;

beforeAll(async () => {
  cluster = await startEtcdCluster();
}, etcdClusterStartTimeoutMs);

afterAll(async () => {
  await cluster?.stop();
}, etcdClusterStopTimeoutMs);

describe("importStoreToEtcd", () => {
  it("moves the embedded store onto etcd intact, with tokens above every embedded epoch", { timeout: 60_000 }, async () => {
    if (cluster === undefined) throw new Error("the etcd cluster did not start");
    const embedded = await freshEmbeddedCoordinator();
    try {
      // Two embedded holders, so the highest epoch is past 1.
      const first = embedded.connect();
      await first.campaign({ id: "alice", address: "127.0.0.1:7001" }, leaseMs);
      const second = embedded.connect();
      const term = await campaignUntilGranted(second, { id: "bob", address: "127.0.0.1:7002" }, leaseMs);
      const read = await second.readStore();
      const state: StoreState = {
        ...nextState(read.state, "apparatus-1"),
        journal: [{ change_id: "change-1", kind: "move", summary: "a move before the import", base_generation: read.state.generation, epoch: term.token }],
      };
      await second.writeStore(term.token, read.revision, state);
      const exported = await second.readStore();

      const keyPrefix = `/switchyard-import/${randomUUID()}/`;
      const imported = await importStoreToEtcd({ endpoints: cluster.endpoints, keyPrefix, state: exported.state, highestEpoch: term.token });
      const onEtcd = etcdCoordination({ endpoints: cluster.endpoints, keyPrefix, now: () => performance.now() });
      try {
        const moved = await onEtcd.readStore();
        expect(moved.revision).toBe(imported.revision);
        expect(moved.state).toEqual(exported.state);
        const etcdTerm = await onEtcd.campaign({ id: "carol", address: "127.0.0.1:7003" }, leaseMs);
        expect(etcdTerm.granted).toBe(true);
        expect(etcdTerm.token).toBeGreaterThan(term.token);
        await expect(importStoreToEtcd({ endpoints: cluster.endpoints, keyPrefix, state: nextState(exported.state, "again"), highestEpoch: 0 }))
          .rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        expect((await onEtcd.readStore()).revision).toBe(imported.revision);
      } finally {
        await onEtcd.close();
      }
    } finally {
      await embedded.close();
    }
  });

  it("raises etcd's revision past a high epoch before the first token", { timeout: 60_000 }, async () => {
    if (cluster === undefined) throw new Error("the etcd cluster did not start");
    const keyPrefix = `/switchyard-import/${randomUUID()}/`;
    const connect = (): Coordination => etcdCoordination({ endpoints: cluster?.endpoints ?? [], keyPrefix, now: () => performance.now() });
    // A token taken now says where etcd's revision is; closing revokes it.
    const probe = connect();
    const probeToken = await probe.campaign({ id: "probe", address: "" }, leaseMs).finally(() => probe.close());
    const highestEpoch = probeToken.token + 200;
    await importStoreToEtcd({ endpoints: cluster.endpoints, keyPrefix, state: { generation: 1 }, highestEpoch });
    const after = connect();
    try {
      expect((await after.campaign({ id: "dave", address: "127.0.0.1:7004" }, leaseMs)).token).toBeGreaterThan(highestEpoch);
    } finally {
      await after.close();
    }
  });
});
