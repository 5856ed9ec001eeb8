/**
 * `switchyard up --etcd URLS` (issue 18): the appliance with its
 * coordination on an existing etcd cluster. The device follows etcd (its
 * epochs are etcd tokens, its registrations and committed table etcd's:
 * device/src/followed-coordination.ts) and the controller coordinates there
 * (controller/src/coordination-device-port.ts); the device keeps only
 * storage and the copy engine.
 *
 * A fresh key prefix is seeded from the device's own store (its LU list,
 * with the NBD addresses it published), with etcd's revision raised above
 * the device arbiter's highest epoch first (importStoreToEtcd), so the
 * tokens carry on above any epoch the device has seen. A prefix that holds a
 * store already is used as it is.
 */
import { etcdCoordination, followedEtcdOnThread, importStoreToEtcd, isCoordinationError, type FollowedClient } from "@switchyard/coordination";
import type { ControllerThreadMode, EtcdSettings } from "@switchyard/controller";
import type { StorageDevice } from "@switchyard/device";
import { UsageError } from "./usage.js";

/** The key prefix `up --etcd` keeps one appliance's keys under. */
export const applianceEtcdKeyPrefix = "switchyard/";

/** Client URLs one option may name: an etcd cluster has a handful of members. */
export const etcdEndpointsMax = 16;

/** `--etcd URLS`: comma-separated client URLs, http://host:port each; none given, no etcd. */
export function etcdOption(text: string | undefined): EtcdSettings | undefined {
  if (text === undefined) return undefined;
  const endpoints = text.split(",").map((url) => url.trim());
  if (endpoints.length > etcdEndpointsMax) throw new UsageError(`--etcd takes at most ${etcdEndpointsMax} client URLs, not ${endpoints.length}`);
  for (const url of endpoints) {
    if (!/^https?:\/\/[^/,\s]+:[0-9]{1,5}\/?$/.test(url)) throw new UsageError(`--etcd takes client URLs like http://127.0.0.1:2379, not ${JSON.stringify(url)}`);
  }
  return { endpoints, keyPrefix: applianceEtcdKeyPrefix };
}

/**
 * A follower's client of etcd (a device's, or an apparatus's renewals):
 * terms are not its to hold, so its clock only times its calls. In "worker"
 * mode it runs on a thread of its own (coordination's followed-thread.ts),
 * so that its watch and calls are not parsed on the thread that answers
 * hosts; "shared" (`--processors 1`) keeps it on the caller's thread.
 */
export function followedCoordination(settings: EtcdSettings, mode: ControllerThreadMode): FollowedClient {
  if (mode === "worker") return followedEtcdOnThread(settings);
  return etcdCoordination({ endpoints: settings.endpoints, keyPrefix: settings.keyPrefix, now: () => performance.timeOrigin + performance.now() });
}

/** Seeds an empty prefix from the device's store (see the header); true when it did. */
export async function seedEtcdStore(device: StorageDevice, coordination: FollowedClient, settings: EtcdSettings): Promise<boolean> {
  if ((await coordination.readStore()).revision !== 0) return false;
  try {
    await importStoreToEtcd({ ...settings, state: device.readStore().state, highestEpoch: device.arbiter.highestEpoch });
    return true;
  } catch (error) {
    // Another appliance seeded it between the read and the import: use theirs.
    if (isCoordinationError(error, "INVALID_ARGUMENT")) return false;
    throw error;
  }
}
