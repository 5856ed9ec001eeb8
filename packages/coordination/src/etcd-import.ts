/**
 * Moving an appliance's store onto etcd (issue 18 item 4, the library part
 * of `switchyard coordination import` and of `up --etcd`'s seeding): the
 * embedded store's state goes into an empty key prefix, and etcd's
 * revision is raised above the embedded arbiter's highest epoch first.
 *
 * Why the revision: apparatuses and devices keep the highest epoch they have
 * seen and refuse lower ones, and on etcd the token is a candidate key's
 * create revision. A fresh etcd is at revision 1 or so, below the epochs the
 * appliance has granted; once etcd's revision is past the highest epoch,
 * every etcd holder's token is higher than every embedded one, with no
 * offset to remember. Each put raises the revision by one, and epochs count
 * failovers, so the puts are few.
 */
import assert from "node:assert/strict";
import { encodeStoreState, type StoreState } from "@switchyard/proto";
import type { Etcd3 } from "etcd3";
import { etcdLibrary } from "./etcd-library.js";
import { CoordinationError } from "./coordination.js";
import { asCoordinationError, etcdCallTimeoutMs, etcdDialTimeoutMs } from "./etcd-errors.js";
import { storeBytesMax } from "./etcd-coordination.js";
import { etcdKeys } from "./etcd-keys.js";

/**
 * Puts to raise etcd's revision: an appliance that failed over this many
 * times is not one we know of; more is refused rather than loop for long.
 */
export const importRevisionRaisesMax = 100_000;

export interface EtcdImportOptions {
  readonly endpoints: readonly string[];
  readonly keyPrefix: string;
  /** The embedded store's state, as read (the whole of it: tables, journal, copy progress). */
  readonly state: StoreState;
  /** The embedded arbiter's highest epoch: every etcd token must be above it. */
  readonly highestEpoch: number;
}

export interface EtcdImportResult {
  /** The store's revision on etcd, what the first write must name. */
  readonly revision: number;
}

/** Imports into an empty prefix; a prefix that holds a store already is refused (INVALID_ARGUMENT) and left as it was. */
export async function importStoreToEtcd(options: EtcdImportOptions): Promise<EtcdImportResult> {
  assert.ok(Number.isSafeInteger(options.highestEpoch) && options.highestEpoch >= 0, "epochs are non-negative integers");
  if (options.highestEpoch > importRevisionRaisesMax) {
    throw new CoordinationError("LIMIT_EXCEEDED", `highest epoch ${options.highestEpoch} is over the ${importRevisionRaisesMax} revisions an import raises`);
  }
  const bytes = Buffer.from(encodeStoreState(options.state));
  if (bytes.length > storeBytesMax) {
    throw new CoordinationError("LIMIT_EXCEEDED", `the store is ${bytes.length} bytes, over the ${storeBytesMax}-byte limit of one etcd write`);
  }
  const keys = etcdKeys(options.keyPrefix);
  const raiseKey = Buffer.from(`${options.keyPrefix}import-revision-floor`);
  const client = new (etcdLibrary().Etcd3)({
    hosts: [...options.endpoints],
    dialTimeout: etcdDialTimeoutMs,
    defaultCallOptions: () => ({ deadline: Date.now() + etcdCallTimeoutMs }),
  });
  try {
    let revision = await currentRevision(client, keys.store);
    while (revision <= options.highestEpoch) {
      revision = Number((await client.kv.put({ key: raiseKey, value: Buffer.alloc(0) })).header.revision);
    }
    await client.kv.deleteRange({ key: raiseKey });
    // Only into an empty prefix: a store there already is never overwritten.
    const answer = await client.kv.txn({
      compare: [{ key: keys.store, target: "Create", result: "Equal", create_revision: 0 }],
      success: [{ request_put: { key: keys.store, value: bytes } }],
    });
    if (!answer.succeeded) throw new CoordinationError("INVALID_ARGUMENT", `${options.keyPrefix} holds a store already: import into an empty prefix`);
    return { revision: Number(answer.header.revision) };
  } catch (error) {
    throw asCoordinationError("import", error);
  } finally {
    client.close();
  }
}

/** etcd's revision now, from the header of a read. */
async function currentRevision(client: Etcd3, key: Buffer): Promise<number> {
  const answer = await client.kv.range({ key, keys_only: true });
  const revision = Number(answer.header.revision);
  assert.ok(Number.isSafeInteger(revision) && revision > 0, "etcd answers with its revision");
  return revision;
}
