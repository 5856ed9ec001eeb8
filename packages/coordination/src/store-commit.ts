/**
 * commitDelta for a coordinator that stores the whole table as one value
 * (etcd): read, fold the delta in with the one applier (proto's
 * store-delta.ts), write under the token and the revision read. Another
 * write landing in between fails the write's revision compare
 * (STALE_REVISION) and the commit starts over from a fresh read, at most
 * `commitAttemptsMax` times.
 *
 * Why starting over is safe: the delta is folded into what is stored, not
 * into what the caller once read, so a concurrent journal record of the same
 * holder is kept, and a diff whose base generation is no longer stored is
 * refused (STALE_GENERATION) rather than applied twice. A Txn that committed
 * but whose answer was lost comes back as a STALE_REVISION too; the next
 * read finds the diff's generation stored, and the refusal then says so to
 * the controller, which reads the generation to learn its change committed
 * (change-executor.ts storedGeneration), as it does with the device.
 */
import {
  applyStoreDelta,
  checkStoreDelta,
  decodeStoreDelta,
  encodeStoreDelta,
  StoreDeltaError,
  type StoreDelta,
  type StoreDelta__Output,
} from "@switchyard/proto";
import { CoordinationError, isCoordinationError, type StoreRead } from "./coordination.js";

/**
 * Attempts at one commit. Only the holder writes the store, so a lost
 * compare comes from its own concurrent writes (a journal record beside a
 * commit) or a retried Txn: a few are plenty, and a store that moves on
 * every attempt means something else is writing, which is worth an error.
 */
export const commitAttemptsMax = 5;

/** The store calls a read-fold-write commit needs. */
export interface WholeStore {
  readStore(): Promise<StoreRead>;
  writeStore(token: number, expectedRevision: number, state: StoreRead["state"]): Promise<number>;
}

export async function commitByRewrite(store: WholeStore, token: number, delta: StoreDelta): Promise<number> {
  // Folded as decoded from its own bytes, as the device folds what it logs:
  // defaults filled in, so that every store reads the same delta.
  const decoded = decodeStoreDelta(encodeStoreDelta(delta));
  for (let attempt = 1; ; attempt += 1) {
    const read = await store.readStore();
    fold(read, decoded);
    try {
      return await store.writeStore(token, read.revision, read.state);
    } catch (error) {
      if (!isCoordinationError(error, "STALE_REVISION")) throw error;
      if (attempt >= commitAttemptsMax) {
        throw new CoordinationError("STALE_REVISION", `commitDelta: the store changed under each of ${commitAttemptsMax} attempts: is another writer using this prefix?`, { cause: error });
      }
    }
  }
}

function fold(read: StoreRead, delta: StoreDelta__Output): void {
  try {
    checkStoreDelta(read.state, delta);
  } catch (error) {
    if (error instanceof StoreDeltaError) throw new CoordinationError(error.code, `commitDelta: ${error.message}`, { cause: error });
    throw error;
  }
  applyStoreDelta(read.state, delta);
}
