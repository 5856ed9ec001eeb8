// Goal: the etcd directory (`device serve --etcd`, `apparatus serve --etcd`)
// lists the devices that published their addresses and LUs, in id order, a
// second publish replacing the first, a record without LUs listing none; and an enrolled apparatus appears in etcd's
// readStore as one of the state's `apparatuses`, over a stored record of
// the same id, without changing the store's revision (an enrollment never
// makes a holder's write stale), so a holder's write at the revision it read
// before the enrollment still commits.
// Method: a real three-member etcd (scripts/etcd-cluster.sh), one key
// prefix per case; a holder campaigns and writes the store under its token.
import { randomUUID } from "node:crypto";
import { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdCoordination, etcdDirectory } from "../src/index.js";
import { campaignUntilGranted, etcdClusterStartTimeoutMs, etcdClusterStopTimeoutMs, startEtcdCluster, type EtcdTestCluster } from "../src/testing/index.js";

const leaseMs = 2_000;
let cluster: EtcdTestCluster | undefined;

beforeAll(async () => {
  cluster = await startEtcdCluster();
}, etcdClusterStartTimeoutMs);

afterAll(async () => {
  await cluster?.stop();
}, etcdClusterStopTimeoutMs);

function settings(): { endpoints: readonly string[]; keyPrefix: string } {
  if (cluster === undefined) throw new Error("the etcd cluster did not start");
  return { endpoints: cluster.endpoints, keyPrefix: `/switchyard-test/${randomUUID()}/` };
}

describe("etcd directory", () => {
  it("lists published devices in id order with their LUs, the last publish of an id winning", async () => {
    const where = settings();
    const directory = etcdDirectory(where);
    const lus = [{ id: "d2-lu0", sizeBytes: 1 << 24, extentSizeBytes: 1 << 20 }];
    try {
      expect(await directory.devices()).toEqual([]);
      await directory.publishDevice({ id: "dev1", grpc: "127.0.0.1:2", nbd: "127.0.0.1:3", lus: [] });
      await directory.publishDevice({ id: "dev0", grpc: "127.0.0.1:4", nbd: "127.0.0.1:5", lus: [] });
      await directory.publishDevice({ id: "dev1", grpc: "127.0.0.1:6", nbd: "127.0.0.1:7", lus });
      expect(await directory.devices()).toEqual([
        { id: "dev0", grpc: "127.0.0.1:4", nbd: "127.0.0.1:5", lus: [] },
        { id: "dev1", grpc: "127.0.0.1:6", nbd: "127.0.0.1:7", lus },
      ]);
      await expect(directory.publishDevice({ id: "dev2", grpc: "", nbd: "127.0.0.1:1", lus: [] })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      await expect(directory.publishDevice({ id: "dev2", grpc: "127.0.0.1:1", nbd: "127.0.0.1:1", lus: [{ id: "x", sizeBytes: 0, extentSizeBytes: 1 }] }))
        .rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    } finally {
      await directory.close();
    }
    // A record published before records listed LUs lists none.
    const raw = new Etcd3({ hosts: [...where.endpoints] });
    try {
      await raw.put(`${where.keyPrefix}device/dev9`).value(JSON.stringify({ id: "dev9", grpc: "127.0.0.1:8", nbd: "127.0.0.1:9" }));
    } finally {
      raw.close();
    }
    const reader = etcdDirectory(where);
    try {
      expect((await reader.devices()).at(-1)).toEqual({ id: "dev9", grpc: "127.0.0.1:8", nbd: "127.0.0.1:9", lus: [] });
    } finally {
      await reader.close();
    }
  });

  it("shows an enrolled apparatus in readStore without changing the store's revision", async () => {
    const where = settings();
    const holder = etcdCoordination({ ...where, now: () => performance.now() });
    const directory = etcdDirectory(where);
    try {
      const term = await campaignUntilGranted(holder, { id: "c1", address: "127.0.0.1:9" }, leaseMs);
      const before = await holder.readStore();
      const written = await holder.writeStore(term.token, before.revision, { ...before.state, apparatuses: [{ id: "a1", grpc: "old:1", nbd: "old:2" }] });
      await directory.enrollApparatus({ id: "a1", grpc: "127.0.0.1:11", nbd: "127.0.0.1:12" });
      await directory.enrollApparatus({ id: "a2", grpc: "127.0.0.1:13", nbd: "127.0.0.1:14" });
      const after = await holder.readStore();
      expect(after.revision).toBe(written);
      expect(after.state.apparatuses).toEqual([
        { id: "a1", grpc: "127.0.0.1:11", nbd: "127.0.0.1:12" },
        { id: "a2", grpc: "127.0.0.1:13", nbd: "127.0.0.1:14" },
      ]);
      // The holder's write at the revision it read is not made stale by the enrollments.
      await holder.writeStore(term.token, after.revision, after.state);
    } finally {
      await directory.close();
      await holder.close();
    }
  });
});
