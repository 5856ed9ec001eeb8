// Goal: a holder's commit folds into its own last commit without reading the
// store, and is still never wrong: a write it did not make (another writer,
// a whole-store write, another token) sends the commit back to a read, and
// every record lands once, in order. Method: commitByRewrite over an
// in-memory store that counts reads and checks the revision compare as etcd
// does; journal-only deltas, so every fold succeeds on any state.
import { decodeStoreState, encodeStoreState, type StoreDelta, type StoreState } from "@switchyard/proto";
import { describe, expect, it } from "vitest";
import { CoordinationError, type StoreRead } from "./coordination.js";
import { commitByRewrite, LastCommit, type WholeStore } from "./store-commit.js";

const token = 7;

/** The store as bytes at a revision, as etcd keeps the store key. */
class MemoryStore implements WholeStore {
  reads = 0;
  revision = 0;
  private bytes: Uint8Array = new Uint8Array(0);

  readStore(): Promise<StoreRead> {
    this.reads += 1;
    return Promise.resolve({ state: decodeStoreState(this.bytes), revision: this.revision });
  }

  writeStore(_token: number, expectedRevision: number, state: StoreState): Promise<number> {
    if (expectedRevision !== this.revision) return Promise.reject(new CoordinationError("STALE_REVISION", "moved on"));
    this.bytes = encodeStoreState(state);
    this.revision += 1;
    return Promise.resolve(this.revision);
  }

  /** A write this holder's commits did not make (another client's, with a LastCommit of its own). */
  async addElsewhere(changeId: string): Promise<void> {
    await commitByRewrite(this, token, record(changeId), new LastCommit());
  }

  async changeIds(): Promise<string[]> {
    return (await this.readStore()).state.journal.map((entry) => entry.change_id);
  }
}

/** A store whose first write lands but answers STALE_REVISION: the etcd client's retry of a Txn whose answer was lost. */
class RetriedTxnStore extends MemoryStore {
  private retried = false;

  override async writeStore(writer: number, expectedRevision: number, state: StoreState): Promise<number> {
    const revision = await super.writeStore(writer, expectedRevision, state);
    if (this.retried) return revision;
    this.retried = true;
    throw new CoordinationError("STALE_REVISION", "the retry found the store moved on: by the first attempt");
  }
}

function record(changeId: string): StoreDelta {
  return { journal_entry: { change_id: changeId, kind: "move", state: "CHANGE_STATE_RUNNING" } };
}

describe("commitByRewrite", () => {
  it("reads for the first commit only, while its own commits are the only writes", async () => {
    const store = new MemoryStore();
    const last = new LastCommit();
    for (const id of ["c1", "c2", "c3"]) await commitByRewrite(store, token, record(id), last);
    expect(store.reads).toBe(1);
    expect(await store.changeIds()).toEqual(["c1", "c2", "c3"]);
  });

  it("reads again after a write it did not make, and keeps that write", async () => {
    const store = new MemoryStore();
    const last = new LastCommit();
    await commitByRewrite(store, token, record("c1"), last);
    await store.addElsewhere("other");
    const readsBefore = store.reads;
    await commitByRewrite(store, token, record("c2"), last);
    // The kept state failed the revision compare; the second attempt read the store.
    expect(store.reads).toBe(readsBefore + 1);
    expect(await store.changeIds()).toEqual(["c1", "other", "c2"]);
  });

  it("reads after forget (a whole-store write) and under another token", async () => {
    const store = new MemoryStore();
    const last = new LastCommit();
    await commitByRewrite(store, token, record("c1"), last);
    last.forget();
    await commitByRewrite(store, token, record("c2"), last);
    expect(store.reads).toBe(2);
    await commitByRewrite(store, token + 1, record("c3"), last);
    expect(store.reads).toBe(3);
    expect(await store.changeIds()).toEqual(["c1", "c2", "c3"]);
  });

  it("says the outcome is unknown, not refused, when a write that lost its compare had landed (a retried Txn)", async () => {
    const store = new RetriedTxnStore();
    const diff = { diff: { base_generation: 0, generation: 1, rows: [] } };
    const refusal = await commitByRewrite(store, token, diff, new LastCommit()).then(() => undefined, (error: unknown) => error);
    // The first Txn landed (generation 1) and its retry lost the compare: the controller must read the generation.
    expect(refusal).toBeInstanceOf(CoordinationError);
    expect((refusal as CoordinationError).code).toBe("UNAVAILABLE");
    expect((refusal as CoordinationError).message).toMatch(/outcome unknown/);
    expect((await store.readStore()).state.generation).toBe(1);
  });

  it("still refuses a stale diff as STALE_GENERATION when no write of it was made", async () => {
    const store = new MemoryStore();
    await commitByRewrite(store, token, { diff: { base_generation: 0, generation: 1, rows: [] } }, new LastCommit());
    const refusal = await commitByRewrite(store, token, { diff: { base_generation: 0, generation: 1, rows: [] } }, new LastCommit())
      .then(() => undefined, (error: unknown) => error);
    expect((refusal as CoordinationError).code).toBe("STALE_GENERATION");
  });

  it("lets concurrent commits share nothing: each lands once", async () => {
    const store = new MemoryStore();
    const last = new LastCommit();
    await commitByRewrite(store, token, record("c0"), last);
    await Promise.all(["a", "b", "c"].map((id) => commitByRewrite(store, token, record(id), last)));
    expect((await store.changeIds()).sort()).toEqual(["a", "b", "c", "c0"]);
  });
});
