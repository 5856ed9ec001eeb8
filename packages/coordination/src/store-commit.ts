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
 * but whose answer was lost, retried by the etcd client on another member
 * (an etcd leader killed mid-commit does it), comes back as a STALE_REVISION
 * too; the next read finds the diff's base generation gone. That refusal
 * cannot tell "mine landed" from "stale": after a lost compare it is
 * UNAVAILABLE (outcome unknown), never FAILED_PRECONDITION, so the
 * controller reads the generation to learn whether its change committed
 * (change-run.ts check-commit), as after a device that did not answer. A
 * refusal there would have aborted at the apparatuses a change the store
 * had committed (seen in CI: the store at generation 11, every apparatus
 * at 10, and every later move refused).
 *
 * The first attempt folds into the holder's own last commit when it has one
 * (LastCommit) instead of reading: only the holder writes the store, so
 * what it last wrote is the store unless a write landed since, and then the
 * revision compare fails and the next attempt reads. It saves one etcd round
 * trip of each commit, and a move commits about six times (journal, mirror,
 * progress, switch, end), every one of them inside a failover's time.
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

/**
 * The store as this holder's last commit left it, under its token: taken by
 * one commit at a time (the fold changes it in place), put back only after
 * a write that etcd accepted, and forgotten on anything else.
 */
export class LastCommit {
  private kept: { readonly token: number; readonly read: StoreRead } | undefined;

  /** The store after the last commit under `token`, if nothing else took it since; it is this caller's from now on. */
  take(token: number): StoreRead | undefined {
    const kept = this.kept;
    this.kept = undefined;
    return kept?.token === token ? kept.read : undefined;
  }

  keep(token: number, read: StoreRead): void {
    this.kept = { token, read };
  }

  /** A write made some other way (a whole-store write): the next commit reads. */
  forget(): void {
    this.kept = undefined;
  }
}

export async function commitByRewrite(store: WholeStore, token: number, delta: StoreDelta, last: LastCommit): Promise<number> {
  // Folded as decoded from its own bytes, as the device folds what it logs:
  // defaults filled in, so that every store reads the same delta.
  const decoded = decodeStoreDelta(encodeStoreDelta(delta));
  // Set once a write of this commit lost its compare: it may have been a retry of one that landed.
  let mayHaveLanded = false;
  for (let attempt = 1; ; attempt += 1) {
    const kept = attempt === 1 ? last.take(token) : undefined;
    const read = kept ?? await store.readStore();
    try {
      fold(read, decoded);
    } catch (error) {
      // Refused against the kept state: a write it did not see may have changed the store; the next attempt reads.
      if (kept !== undefined) continue;
      if (mayHaveLanded && error instanceof CoordinationError && error.code === "STALE_GENERATION") throw outcomeUnknown(error);
      throw error;
    }
    try {
      const revision = await store.writeStore(token, read.revision, read.state);
      last.keep(token, { state: read.state, revision });
      return revision;
    } catch (error) {
      if (!isCoordinationError(error, "STALE_REVISION")) throw error;
      mayHaveLanded = true;
      if (attempt >= commitAttemptsMax) {
        throw new CoordinationError("STALE_REVISION", `commitDelta: the store changed under each of ${commitAttemptsMax} attempts: is another writer using this prefix?`, { cause: error });
      }
    }
  }
}

function outcomeUnknown(refusal: CoordinationError): CoordinationError {
  return new CoordinationError("UNAVAILABLE",
    `commitDelta: outcome unknown: an earlier attempt lost its revision compare, and the store no longer holds the delta's base generation (${refusal.message}); read the generation to learn whether it committed`,
    { cause: refusal });
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
