// What every case on a real etcd starts and must end, whatever happens in
// it: its ProcessCluster, then its etcd cluster (etcd-serve, etcd-devices,
// etcd-device-loss).
import { etcdClusterStopTimeoutMs, type EtcdTestCluster } from "@switchyard/coordination/testing";
import { afterEach } from "vitest";
import type { ProcessCluster } from "./cluster.js";

/** The case fills these in as it starts them. */
export interface EtcdCaseParts {
  etcd: EtcdTestCluster | undefined;
  cluster: ProcessCluster | undefined;
}

/** Registers an afterEach that stops the case's cluster and then its etcd; call once at the top of a test file. */
export function etcdCaseParts(): EtcdCaseParts {
  const parts: EtcdCaseParts = { etcd: undefined, cluster: undefined };
  afterEach(async () => {
    await parts.cluster?.stop();
    parts.cluster = undefined;
    await parts.etcd?.stop();
    parts.etcd = undefined;
  }, etcdClusterStopTimeoutMs);
  return parts;
}
