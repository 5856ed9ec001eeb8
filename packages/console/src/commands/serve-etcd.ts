/**
 * `device serve --etcd URLS` and `apparatus serve --etcd URLS` (issue 18):
 * the parts as separate processes with their coordination on etcd, found
 * through etcd (coordination's etcd-directory.ts).
 *
 * - The device follows etcd as under `up --etcd` (appliance-etcd.ts): its
 *   epochs are etcd tokens, registrations and the committed table etcd's. An
 *   empty prefix is seeded from its store, as `up --etcd` does. Then it
 *   publishes where it is reached and its LUs (<prefix>device/<id>), which
 *   the controller adds to the table (several devices on one prefix).
 * - An apparatus reads a device's address there, so it needs no --device
 *   (given, --device wins: a device on another address than it published,
 *   or the one an apparatus with certificates checks epochs with), and enrolls its own addresses there, where
 *   the controller's store reads find them: the device's store is not the
 *   controller's on etcd, so enrolling with the device would go unseen.
 *   Its controller candidate campaigns on etcd. It renews its registration
 *   with etcd itself (etcdApparatusPorts), not through the device, so no
 *   device is on its liveness path: losing a device stops only I/O to the
 *   device's LUs (issue 18 item 3).
 */
import assert from "node:assert/strict";
import { holdDeadlineMsDefault, type ContactRenewalPort, type LeaseHolderSource } from "@switchyard/apparatus";
import { etcdDirectory, isCoordinationError, renewIntervalMs, type AddressRecord, type FollowedClient } from "@switchyard/coordination";
import { etcdControllerLeaseMs, leaseMsDefault, type EtcdSettings } from "@switchyard/controller";
import type { StorageDevice } from "@switchyard/device";
import { seedEtcdStore } from "../appliance-etcd.js";

/**
 * etcd ends an expired lease at its next check, at most this long after the
 * lease ran out (its lessor looks every 500 ms).
 */
const etcdExpiryCheckMs = 500;
// A hold a killed controller left must end before its deadline: the
// successor loads every apparatus's table one term after the last renewal
// at the latest, plus etcd's expiry check, plus one campaign step if the
// watch missed the vacancy (on the embedded arbiter: a term and a step).
// Past the deadline the apparatus would fail the held volumes' requests
// with ESHUTDOWN, which a failover alone must never cause.
assert.ok(etcdControllerLeaseMs + etcdExpiryCheckMs + renewIntervalMs(etcdControllerLeaseMs) < holdDeadlineMsDefault,
  "a successor on etcd must act before a predecessor's hold passes its deadline");
assert.ok(leaseMsDefault + renewIntervalMs(leaseMsDefault) < holdDeadlineMsDefault,
  "a successor on the embedded arbiter must act before a predecessor's hold passes its deadline");

/**
 * How long an apparatus waits for a device to publish its address: the
 * processes of a cluster start in any order (a service manager starts them
 * together), and a device opening a large folder takes seconds.
 */
export const devicePublishWaitMs = 30_000;
/** Between two looks for the device's record while waiting. */
const devicePublishPollMs = 250;

export type ServeEtcdErrorCode = "DEVICE_NOT_PUBLISHED";

/** An operating error of finding parts through etcd: exit 1 with its message. */
export class ServeEtcdError extends Error {
  readonly code: ServeEtcdErrorCode;
  constructor(code: ServeEtcdErrorCode, message: string) {
    super(message);
    this.name = "ServeEtcdError";
    this.code = code;
  }
}

/** Seeds an empty prefix (as `up --etcd`), then publishes the device's addresses and LUs; true when it seeded. */
export async function joinEtcdAsDevice(device: StorageDevice, followed: FollowedClient, settings: EtcdSettings, addresses: { grpc: string; nbd: string }): Promise<boolean> {
  const seeded = await seedEtcdStore(device, followed, settings);
  const directory = etcdDirectory(settings);
  try {
    // Its LUs too: the controller adds those the table lacks and keeps their URIs at these addresses (issue 18).
    const lus = device.lus.map((lu) => ({ id: lu.id, sizeBytes: lu.sizeBytes, extentSizeBytes: lu.extentSizeBytes }));
    await directory.publishDevice({ id: device.id, ...addresses, lus });
  } finally {
    await directory.close();
  }
  return seeded;
}

/**
 * The device an apparatus names as its own, waiting up to devicePublishWaitMs
 * for one to be published; with several (issue 18), the first in id order.
 * On etcd an apparatus renews its registration there, asks etcd who holds an
 * epoch (etcdApparatusPorts), and its controller routes each storage call to
 * the device holding the LU (controller routed-storage.ts), so the device it
 * names is only where its controller candidate starts.
 */
export async function findDeviceOnEtcd(settings: EtcdSettings, waitMs: number = devicePublishWaitMs): Promise<AddressRecord> {
  const directory = etcdDirectory(settings);
  const deadlineMs = performance.now() + waitMs;
  try {
    for (;;) {
      // etcd not answering yet (its members starting too) is waited for as a device not published yet.
      const devices = await directory.devices().catch((error: unknown) => {
        if (isCoordinationError(error, "UNAVAILABLE") && performance.now() < deadlineMs) return [];
        throw error;
      });
      const [first] = devices;
      if (first !== undefined) return first;
      if (performance.now() >= deadlineMs) {
        throw new ServeEtcdError("DEVICE_NOT_PUBLISHED", `no device has published its address under ${settings.keyPrefix} in etcd within ${waitMs} ms: start 'switchyard device serve --etcd' with the same URLs, or give --device HOST:PORT`);
      }
      await new Promise((resolve) => setTimeout(resolve, devicePublishPollMs));
    }
  } finally {
    await directory.close();
  }
}

/** Enrolls the apparatus's addresses in etcd, where the controller's store reads find them. */
export async function enrollOnEtcd(settings: EtcdSettings, record: AddressRecord): Promise<void> {
  const directory = etcdDirectory(settings);
  try {
    await directory.enrollApparatus(record);
  } finally {
    await directory.close();
  }
}

/**
 * An apparatus's two ports onto etcd over one follower client
 * (`followedCoordination`: on a thread of its own unless --processors 1):
 *
 * - The contact lease's renewals (contact-lease.ts): one
 *   registrationStatus each, a linearizable read that only a member in
 *   touch with a quorum answers, so an apparatus cut off from etcd's
 *   majority stops serving one lease after its last granted renewal. The
 *   lease stops listening at its renewal's timeout; the call itself ends at
 *   its own etcd deadline.
 * - Who holds an epoch, asked of etcd (its lowest election key): with
 *   several devices on the prefix none is the one to ask, and etcd is where
 *   the term is held anyway. An apparatus with certificates checks each new
 *   controller's caller against it (lease-holder-lookup.ts).
 *
 * The client is closed once both ports are.
 */
export function etcdApparatusPorts(client: FollowedClient): { contactRenewal: ContactRenewalPort; leaseHolders: LeaseHolderSource } {
  let open = 2;
  const closeOne = (): void => {
    open -= 1;
    // Nothing waits on a closing client; a failure to close leaves only connections the process ends.
    if (open === 0) client.close().catch(() => undefined);
  };
  return {
    contactRenewal: { renew: (apparatusId, registrationKey) => client.registrationStatus(apparatusId, registrationKey), close: once(closeOne) },
    leaseHolders: { lookup: () => client.leaseHolder(), close: once(closeOne) },
  };
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
