/**
 * The configuration store as the controller keeps it: reads and writes
 * through the device under the controller's epoch, and the committed table
 * it plans changes from. While the controller holds the lease at one epoch
 * it is the table's only writer (the store refuses every write of an older
 * epoch), so it reads the table once and keeps its copy in step with the
 * changes it commits: no whole-store read per change. Any whole write, a
 * change not known to have committed, and a new epoch make it read again.
 */
import assert from "node:assert/strict";
import type { StoreDelta, StoreState, StoreState__Output } from "@switchyard/proto";
import { applyExtentRows, type ChangePlan } from "./change-plans.js";
import { isStoreWriteRefused, refusalMessage } from "./call-errors.js";
import type { DevicePort } from "./device-port.js";
import { ControllerError } from "./errors.js";

export interface StoreRead {
  readonly state: StoreState__Output;
  /** The store's sequence, for a whole write that must not overwrite another. */
  readonly sequence: number;
}

export interface ReadOptions {
  /** Leave the volumes' extent maps out (they may be a million rows). */
  readonly omitExtents?: boolean;
  readonly omitJournal?: boolean;
}

export class TableKeeper {
  /** The committed table as last known, and the epoch it is known under. */
  private cached: { readonly epoch: number; readonly state: StoreState__Output } | undefined;

  /** `epoch` gives the epoch this controller may write under now, or throws NOT_CONTROLLER. */
  constructor(private readonly device: DevicePort, private readonly epoch: () => number) {}

  /** The stored state; parts left out come back empty, so a state read so must never be written back whole. */
  async read(options: ReadOptions = {}): Promise<StoreRead> {
    const request = { omit_extents: options.omitExtents ?? false, omit_journal: options.omitJournal ?? false };
    const snapshot = await this.device.readStore(request);
    assert.ok(snapshot.state !== null, "the device answered ReadStore without a state");
    return { state: snapshot.state, sequence: snapshot.sequence };
  }

  /**
   * Writes the whole state, unless the store moved past `expectedSequence`.
   * A write the device refused because its store could not write
   * (isStoreWriteRefused) was not made: the caller hears ABORTED with the
   * device's reason and the generation the store stays at, instead of an
   * UNAVAILABLE that reads as a device gone. A write the device did not
   * answer may or may not have been made, and stays a silence.
   */
  async write(state: StoreState, expectedSequence: number): Promise<void> {
    // The table may change under any whole write: the next change reads it again.
    this.cached = undefined;
    try {
      await this.device.writeStore({ epoch: this.epoch(), expected_sequence: expectedSequence, state });
    } catch (error) {
      throw await this.notMade(error, Number(state.generation ?? 0));
    }
  }

  /** `error` as ABORTED if the device refused it for its store's sake; as it is otherwise. */
  private async notMade(error: unknown, generation: number): Promise<unknown> {
    if (!isStoreWriteRefused(error)) return error;
    const stored = await this.read({ omitExtents: true, omitJournal: true }).then((read) => `stays at ${read.state.generation}`, () => "cannot be read now");
    return new ControllerError("ABORTED", `the configuration store did not take generation ${generation} and ${stored}: ${refusalMessage(error)}`, { cause: error });
  }

  /**
   * Appends a delta: a commit's diff, or journal records. A change's commit
   * names the epoch the change began under (`changeEpoch`): if this
   * controller lost the lease since and took it again, the apparatuses held
   * and applied under the old epoch, and the new one's takeover loads the
   * table instead, so the diff must not land under the new epoch before
   * that (a stale read, found by the cluster simulation at seed 3470).
   */
  async commit(delta: StoreDelta, changeEpoch?: number): Promise<void> {
    const epoch = this.epoch();
    if (changeEpoch !== undefined && changeEpoch !== epoch) {
      throw new ControllerError("STALE_EPOCH", `the change began under epoch ${changeEpoch}, and this controller holds epoch ${epoch} now: its takeover decides`);
    }
    await this.device.commitDelta({ epoch, delta });
  }

  /** The committed table (generation, LUs, volumes; no journal) to plan a change from. */
  async committed(): Promise<StoreState__Output> {
    const epoch = this.epoch();
    if (this.cached?.epoch === epoch) return this.cached.state;
    const { state } = await this.read({ omitJournal: true });
    this.cached = { epoch, state };
    return state;
  }

  /** A change planned from `state` (committed()'s) is under way: until its outcome is known, so is not the table. */
  changing(): void {
    this.cached = undefined;
  }

  /** The change planned from `state` committed under `epoch`: the copy follows it without a read. */
  changed(state: StoreState__Output, plan: ChangePlan, epoch: number): void {
    // A resize reshapes volumes, which the rows alone do not say; a plan from an older table left this one behind.
    if (plan.kind === "resize" || state.generation !== plan.baseGeneration) return;
    applyExtentRows(state, plan.diff);
    this.cached = { epoch, state };
  }

  /** The lease is gone: what was known under it is not any more. */
  forget(): void {
    this.cached = undefined;
  }
}
