/**
 * The shared suite's cases for `commitDelta` (coordination.ts): a change's
 * commit point as a delta, folded by the one applier into whatever store is
 * current. Both implementations must give the same table for the same
 * deltas, refuse a stale generation and a deposed token with nothing
 * changed, and keep every one of several concurrent journal records of the
 * holder (on etcd that exercises the read-fold-Txn retry of
 * store-commit.ts).
 */
import type { StoreDelta, StoreState__Output } from "@switchyard/proto";
import { CoordinationError, type Candidate, type Coordination, type CoordinationErrorCode, type Term } from "../coordination.js";
import type { CoordinationSuiteRunner, CoordinationSuiteTarget, CoordinationUnderTest } from "./coordination-suite.js";

const extentSizeBytes = 1 << 20;
/** Journal records committed at once by one holder: more than one retry round on etcd, within its attempts. */
const concurrentRecordsCount = 4;

const alice: Candidate = { id: "alice", address: "127.0.0.1:7001" };
const bob: Candidate = { id: "bob", address: "127.0.0.1:7002" };

export interface CommitDeltaCasesContext {
  readonly options: { readonly timeout: number };
  readonly withFresh: (body: (under: CoordinationUnderTest) => Promise<void>) => () => Promise<void>;
  readonly campaignUntilGranted: (client: Coordination, candidate: Candidate, leaseMs: number) => Promise<Term>;
}

export function commitDeltaCases(runner: CoordinationSuiteRunner, target: CoordinationSuiteTarget, context: CommitDeltaCasesContext): void {
  const { it, expect } = runner;
  const { options, withFresh } = context;
  const expectCode = async (promise: Promise<unknown>, code: CoordinationErrorCode): Promise<void> => {
    const error: unknown = await promise.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CoordinationError);
    expect((error as CoordinationError).code).toBe(code);
  };

  it("commits a delta: the new volume's rows, the next generation and the journal record", options, withFresh(async (under) => {
    const holder = under.connect();
    const term = await holder.campaign(alice, target.leaseMs);
    const before = await holder.readStore();
    const revision = await holder.commitDelta(term.token, volumeDelta(before.state, "suite-volume", "change-1"));
    expect(revision).toBeGreaterThan(before.revision);
    const after = await holder.readStore();
    expect(after.revision).toBe(revision);
    expect(after.state.generation).toBe(before.state.generation + 1);
    const volume = after.state.volumes.find((candidate) => candidate.name === "suite-volume");
    expect(volume?.extents?.lu_index[1]).toBe(newLuIndex(before.state));
    expect(volume?.extents?.area_index[1]).toBe(3);
    expect(after.state.journal.map((entry) => entry.change_id)).toContain("change-1");
  }));

  it("refuses a diff not based on the stored generation, and a deposed holder's delta, changing nothing", options, withFresh(async (under) => {
    const deposed = under.connect();
    const successor = under.connect();
    const old = await deposed.campaign(alice, target.leaseMs);
    const before = await deposed.readStore();
    const stale = volumeDelta({ ...before.state, generation: before.state.generation + 1 }, "stale-volume", "change-stale");
    await expectCode(deposed.commitDelta(old.token, stale), "STALE_GENERATION");
    expect((await deposed.readStore()).revision).toBe(before.revision);
    const now = await context.campaignUntilGranted(successor, bob, target.leaseMs);
    await expectCode(deposed.commitDelta(old.token, journalDelta("change-late")), "NOT_HOLDER");
    const unchanged = await successor.readStore();
    expect(unchanged.revision).toBe(before.revision);
    expect(unchanged.state.journal.map((entry) => entry.change_id)).not.toContain("change-late");
    expect(await successor.commitDelta(now.token, journalDelta("change-successor"))).toBeGreaterThan(before.revision);
  }));

  it("keeps every one of a holder's concurrent journal records", options, withFresh(async (under) => {
    const holder = under.connect();
    const term = await holder.campaign(alice, target.leaseMs);
    const ids = Array.from({ length: concurrentRecordsCount }, (_, index) => `record-${index}`);
    await Promise.all(ids.map((id) => holder.commitDelta(term.token, journalDelta(id))));
    const after = await holder.readStore();
    expect(after.state.journal.map((entry) => entry.change_id)).toEqual(expect.arrayContaining(ids));
  }));
}

/** The LU index a delta may add: one past every index the store has. */
function newLuIndex(state: StoreState__Output): number {
  return state.lus.reduce((highest, lu) => Math.max(highest, lu.index), -1) + 1;
}

/** A new LU and a two-extent volume whose second extent is on it, committed with its journal record. */
function volumeDelta(state: StoreState__Output, volume: string, changeId: string): StoreDelta {
  const luIndex = newLuIndex(state);
  return {
    diff: {
      base_generation: state.generation,
      generation: state.generation + 1,
      lus_added: [{ index: luIndex, id: `suite-lu-${luIndex}`, device_id: "suite-device", size_bytes: 16 * extentSizeBytes, extent_size_bytes: extentSizeBytes }],
      shapes: [{ name: volume, size_bytes: 2 * extentSizeBytes, extent_size_bytes: extentSizeBytes, extent_count: 2 }],
      rows: [{ volume, extent_index: 1, lu_index: luIndex, area_index: 3 }],
    },
    journal_entry: { change_id: changeId, kind: "create", state: "CHANGE_STATE_COMMITTED", base_generation: state.generation },
  };
}

function journalDelta(changeId: string): StoreDelta {
  return { journal_entry: { change_id: changeId, kind: "move", state: "CHANGE_STATE_RUNNING" } };
}
