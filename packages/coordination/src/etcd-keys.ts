/**
 * Where the etcd coordination keeps things: every key under one prefix, so
 * that clusters (and test cases) can share an etcd cluster without seeing
 * each other.
 *
 *   <prefix>election/<lease id, 16 hex digits>   a candidate, attached to its etcd lease
 *   <prefix>store                                the configuration store (StoreState, protobuf)
 *   <prefix>registration/<apparatus id>          the key the apparatus presents on I/O
 *   <prefix>fenced/<apparatus id>                present while the apparatus is fenced
 *   <prefix>device/<device id>                   where a device is reached (etcd-directory.ts)
 *   <prefix>apparatus/<apparatus id>             where an enrolled apparatus is reached (etcd-directory.ts)
 *
 * Pure: names and bytes only; an apparatus id that cannot be a key is
 * refused with INVALID_ARGUMENT.
 */
import assert from "node:assert/strict";
import { CoordinationError } from "./coordination.js";

/** Prefixes are short paths ending in "/": they are in every key of every request. */
export const keyPrefixLengthMax = 128;
/** Apparatus ids are short names; etcd keys must stay small (all keys are held in the server's memory). */
export const apparatusIdLengthMax = 256;

export interface EtcdKeys {
  readonly electionPrefix: Buffer;
  /** The end of the election range: every key that starts with electionPrefix is below it. */
  readonly electionRangeEnd: Buffer;
  readonly store: Buffer;
  candidate(leaseId: string): Buffer;
  registration(apparatusId: string): Buffer;
  fenced(apparatusId: string): Buffer;
  /** Every registration key: registration(id) for each. */
  readonly registrations: KeyRange;
  /** Every fenced key: fenced(id) for each. */
  readonly fences: KeyRange;
  /** Which registration or fenced key `key` is, if it is one. */
  registrationKeyOf(key: Buffer): { readonly family: "registration" | "fenced"; readonly apparatusId: string } | undefined;
  /** Every device's address record: device(id) for each. */
  readonly devices: KeyRange;
  device(deviceId: string): Buffer;
  /** Every enrolled apparatus's address record: apparatus(id) for each. */
  readonly apparatuses: KeyRange;
  apparatus(apparatusId: string): Buffer;
}

/** The keys that start with `prefix`: [prefix, end). */
export interface KeyRange {
  readonly prefix: Buffer;
  readonly end: Buffer;
}

function keyRange(prefix: string): KeyRange {
  const bytes = Buffer.from(prefix);
  return { prefix: bytes, end: rangeEndOf(bytes) };
}

export function etcdKeys(prefix: string): EtcdKeys {
  assert.ok(prefix.length > 0 && prefix.length <= keyPrefixLengthMax && prefix.endsWith("/"), `bad key prefix ${prefix}`);
  const electionPrefix = Buffer.from(`${prefix}election/`);
  const registrations = keyRange(`${prefix}registration/`);
  const fences = keyRange(`${prefix}fenced/`);
  return {
    electionPrefix,
    electionRangeEnd: rangeEndOf(electionPrefix),
    store: Buffer.from(`${prefix}store`),
    candidate: (leaseId) => Buffer.concat([electionPrefix, Buffer.from(leaseIdHex(leaseId))]),
    registration: (apparatusId) => Buffer.from(`${prefix}registration/${checkedApparatusId(apparatusId)}`),
    fenced: (apparatusId) => Buffer.from(`${prefix}fenced/${checkedApparatusId(apparatusId)}`),
    registrations,
    fences,
    registrationKeyOf: (key) => {
      if (key.subarray(0, registrations.prefix.length).equals(registrations.prefix)) {
        return { family: "registration", apparatusId: key.subarray(registrations.prefix.length).toString("utf8") };
      }
      if (key.subarray(0, fences.prefix.length).equals(fences.prefix)) {
        return { family: "fenced", apparatusId: key.subarray(fences.prefix.length).toString("utf8") };
      }
      return undefined;
    },
    devices: keyRange(`${prefix}device/`),
    // Device ids are names as apparatus ids are: the same check.
    device: (deviceId) => Buffer.from(`${prefix}device/${checkedApparatusId(deviceId)}`),
    apparatuses: keyRange(`${prefix}apparatus/`),
    apparatus: (apparatusId) => Buffer.from(`${prefix}apparatus/${checkedApparatusId(apparatusId)}`),
  };
}

/**
 * etcd's range end for "every key with this prefix": the prefix with its
 * last byte that is not 0xff raised by one (rpc.proto, RangeRequest.range_end).
 */
export function rangeEndOf(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index -= 1) {
    const byte = end[index];
    assert.ok(byte !== undefined);
    if (byte < 0xff) {
      end[index] = byte + 1;
      return end.subarray(0, index + 1);
    }
  }
  // A prefix of only 0xff bytes: "\0" means every key from the prefix on.
  return Buffer.from([0]);
}

/** Lease ids come as decimal int64 strings; fixed-width hex keeps candidate keys one length. */
function leaseIdHex(leaseId: string): string {
  assert.match(leaseId, /^[0-9]+$/, "etcd lease ids are decimal strings");
  const id = BigInt(leaseId);
  assert.ok(id > 0n && id < 1n << 63n, "etcd lease ids are positive int64 values");
  return id.toString(16).padStart(16, "0");
}

/** Apparatus ids come from requests: a bad one is an operating error, not a broken invariant. */
function checkedApparatusId(apparatusId: string): string {
  if (apparatusId.length === 0 || apparatusId.length > apparatusIdLengthMax || apparatusId.includes("/")) {
    throw new CoordinationError("INVALID_ARGUMENT", `apparatus id must be 1 to ${apparatusIdLengthMax} characters without "/", not ${JSON.stringify(apparatusId)}`);
  }
  return apparatusId;
}
