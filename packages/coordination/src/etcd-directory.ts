/**
 * Where the parts of a cluster on etcd find each other (issue 18:
 * `device serve --etcd`, `apparatus serve --etcd`): each device publishes
 * its gRPC and NBD addresses under <prefix>device/<id> when it starts, and
 * each apparatus enrolls its own under <prefix>apparatus/<id>, so an
 * apparatus needs only the etcd URLs to find the device, and the controller
 * finds the apparatuses there (etcd's readStore lists them as the store's
 * `apparatuses`, as the device's store does after Device.Enroll).
 *
 * These writes carry no token, as Device.Enroll does not: a record says
 * only where a part is reached, and grants nothing. An apparatus enrolled
 * here serves no host until the controller has loaded its table and
 * registered its key under the token; a wrong address fails the
 * controller's first call to it, and it is fenced. A record is a plain put
 * without a lease: a part that stops leaves its address, as its record in
 * the device's store stays; the next start replaces it.
 *
 * A device's record also lists its LUs (id, size, extent size), so the
 * controller can add a device that joined a cluster already seeded to the
 * table, and keep each LU's NBD URI at the address the device last
 * published, without a call to the device (controller published-devices.ts).
 * A record without the list (published before it was added) lists none.
 */
import assert from "node:assert/strict";
import type { IKeyValue } from "etcd3";
import { etcdLibrary } from "./etcd-library.js";
import { CoordinationError } from "./coordination.js";
import { etcdCallTimeoutMs, etcdDialTimeoutMs, asCoordinationError } from "./etcd-errors.js";
import { etcdKeys } from "./etcd-keys.js";

/** Where one part is reached. */
export interface AddressRecord {
  readonly id: string;
  /** host:port of its gRPC service. */
  readonly grpc: string;
  /** host:port of its NBD server (a device's LUs, an apparatus's volumes). */
  readonly nbd: string;
}

/** One LU as its device publishes it. */
export interface PublishedLu {
  readonly id: string;
  readonly sizeBytes: number;
  readonly extentSizeBytes: number;
}

/** Where a device is reached, and its LUs. */
export interface DeviceRecord extends AddressRecord {
  readonly lus: readonly PublishedLu[];
}

/** LUs one device record may list: a device holds at most 256 (device-folder.ts luCountMax). */
export const publishedLusMax = 256;
/** An LU id names an NBD export: short (device-folder.ts ids are at most 70 characters). */
const luIdLengthMax = 128;

/**
 * Records one listing may hold, as the device enrolls at most this many
 * apparatuses (device-registrations.ts registrationsMax); a listing with
 * more is refused with LIMIT_EXCEEDED rather than cut short.
 */
export const directoryRecordsMax = 1_024;
/** host:port is short; a record is small next to etcd's 1.5 MiB request limit. */
export const addressLengthMax = 256;

export interface EtcdDirectoryOptions {
  readonly endpoints: readonly string[];
  readonly keyPrefix: string;
}

export interface EtcdDirectory {
  /** Puts (or replaces) the device's record. */
  publishDevice(record: DeviceRecord): Promise<void>;
  /** Every device that published its record, in id order. */
  devices(): Promise<DeviceRecord[]>;
  /** Puts (or replaces) the apparatus's record: the controller finds it at its next store read. */
  enrollApparatus(record: AddressRecord): Promise<void>;
  close(): Promise<void>;
}

export function etcdDirectory(options: EtcdDirectoryOptions): EtcdDirectory {
  assert.ok(options.endpoints.length > 0, "etcd needs at least one endpoint");
  const client = new (etcdLibrary().Etcd3)({
    hosts: [...options.endpoints],
    dialTimeout: etcdDialTimeoutMs,
    defaultCallOptions: () => ({ deadline: Date.now() + etcdCallTimeoutMs }),
  });
  const keys = etcdKeys(options.keyPrefix);
  const put = async (what: string, key: Buffer, record: AddressRecord): Promise<void> => {
    checkRecord(record);
    await directoryCall(what, () => client.kv.put({ key, value: Buffer.from(JSON.stringify(record)) }));
  };
  return {
    publishDevice: async (record) => {
      checkPublishedLus(record.lus);
      await put("publishDevice", keys.device(record.id), record);
    },
    devices: async () => {
      const answer = await directoryCall("devices", () =>
        client.kv.range({ key: keys.devices.prefix, range_end: keys.devices.end, limit: directoryRecordsMax + 1 }));
      return deviceRecordsOf(answer.kvs);
    },
    enrollApparatus: (record) => put("enrollApparatus", keys.apparatus(record.id), record),
    close: () => {
      client.close();
      return Promise.resolve();
    },
  };
}

/** The records of a range's answer (etcd sorts keys, so they come in id order); over the limit is LIMIT_EXCEEDED. */
export function recordsOf(kvs: readonly IKeyValue[]): AddressRecord[] {
  if (kvs.length > directoryRecordsMax) {
    throw new CoordinationError("LIMIT_EXCEEDED", `more than ${directoryRecordsMax} address records under one prefix (limit)`);
  }
  return kvs.map((kv) => parseRecord(kv.value));
}

/** The device records of a range's answer, each with its LUs ([] when the record lists none). */
export function deviceRecordsOf(kvs: readonly IKeyValue[]): DeviceRecord[] {
  const records = recordsOf(kvs);
  return records.map((record, index) => {
    const parsed = parseJson(kvs[index]?.value ?? Buffer.alloc(0));
    const lus = typeof parsed === "object" && parsed !== null && "lus" in parsed ? parsed.lus : [];
    if (!Array.isArray(lus) || lus.length > publishedLusMax || !lus.every(isPublishedLu)) {
      throw new CoordinationError("INVALID_ARGUMENT", `device ${record.id}'s record lists its LUs wrongly: up to ${publishedLusMax} of {id, sizeBytes, extentSizeBytes}`);
    }
    return { ...record, lus: lus.map((lu) => ({ id: lu.id, sizeBytes: lu.sizeBytes, extentSizeBytes: lu.extentSizeBytes })) };
  });
}

function parseRecord(value: Buffer): AddressRecord {
  const parsed = parseJson(value);
  if (!isRecord(parsed)) throw new CoordinationError("INVALID_ARGUMENT", `an address record needs id, grpc and nbd strings: ${value.toString("utf8").slice(0, addressLengthMax)}`);
  return { id: parsed.id, grpc: parsed.grpc, nbd: parsed.nbd };
}

function parseJson(value: Buffer): unknown {
  try {
    return JSON.parse(value.toString("utf8"));
  } catch (error) {
    throw new CoordinationError("INVALID_ARGUMENT", `an address record is not JSON: ${String(error)}`, { cause: error });
  }
}

function isPublishedLu(value: unknown): value is PublishedLu {
  return typeof value === "object" && value !== null && "id" in value && "sizeBytes" in value && "extentSizeBytes" in value &&
    typeof value.id === "string" && value.id.length > 0 && value.id.length <= luIdLengthMax &&
    isPositiveInteger(value.sizeBytes) && isPositiveInteger(value.extentSizeBytes);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function checkPublishedLus(lus: readonly PublishedLu[]): void {
  if (lus.length > publishedLusMax || !lus.every(isPublishedLu)) {
    throw new CoordinationError("INVALID_ARGUMENT", `a device publishes up to ${publishedLusMax} LUs, each with an id and positive sizes`);
  }
}

function isRecord(value: unknown): value is AddressRecord {
  return typeof value === "object" && value !== null && "id" in value && "grpc" in value && "nbd" in value &&
    typeof value.id === "string" && typeof value.grpc === "string" && typeof value.nbd === "string";
}

function checkRecord(record: AddressRecord): void {
  for (const field of [record.grpc, record.nbd]) {
    if (field.length === 0 || field.length > addressLengthMax) {
      throw new CoordinationError("INVALID_ARGUMENT", `an address of 1 to ${addressLengthMax} characters is required, not ${JSON.stringify(field)}`);
    }
  }
}

function directoryCall<Result>(what: string, call: () => Promise<Result>): Promise<Result> {
  return call().catch((error: unknown) => {
    throw asCoordinationError(what, error);
  });
}
