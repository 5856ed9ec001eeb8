/**
 * The configuration store as the simulator keeps it: the state the real
 * planners read, and the commit point (DESIGN step 3) as one replacement of
 * that state, through the store's own binary codec so that what the
 * planners see next is exactly what the real store would give back.
 * For the cluster's device, the disk under the store and the arbiter's
 * epoch file (DeviceDisk) and the store as it survives a power cut
 * (DurableStore): a commit answered only once its record has landed.
 */
import assert from "node:assert/strict";
import type { ChangePlan } from "@switchyard/controller";
import { memoryLuDescription } from "@switchyard/apparatus/testing";
import { decodeStoreState, encodeStoreState, type ConfigurationTable__Output, type StoreState, type StoreState__Output } from "@switchyard/proto";
import type { Random } from "./prng.js";
import type { VirtualWorld } from "./virtual-world.js";

/** The table a run starts from: one volume spread over in-memory LUs. */
export interface StartingLayout {
  readonly volumeName: string;
  readonly volumeExtentCount: number;
  readonly luCount: number;
  readonly luSizeBytes: number;
  readonly extentSizeBytes: number;
}

/** Generation 1: extent i on LU i mod luCount, so every LU starts with some extents and some free areas. */
export function startingStore(layout: StartingLayout): StoreState {
  const { volumeName, volumeExtentCount, luCount, luSizeBytes, extentSizeBytes } = layout;
  return {
    generation: 1,
    lus: Array.from({ length: luCount }, (_, index) => memoryLuDescription(index, luSizeBytes, extentSizeBytes)),
    volumes: [{
      name: volumeName,
      size_bytes: volumeExtentCount * extentSizeBytes,
      extent_size_bytes: extentSizeBytes,
      extents: {
        lu_index: Array.from({ length: volumeExtentCount }, (_, index) => index % luCount),
        area_index: Array.from({ length: volumeExtentCount }, (_, index) => Math.floor(index / luCount)),
      },
    }],
  };
}

export class SimulatedStore {
  private current: StoreState__Output;

  constructor(initial: StoreState) {
    this.current = decodeStoreState(encodeStoreState(initial));
  }

  get state(): StoreState__Output {
    return this.current;
  }

  get generation(): number {
    return this.current.generation;
  }

  /** The commit point of a planned change: the store moves to the plan's generation. */
  commit(plan: ChangePlan): void {
    assert.equal(plan.baseGeneration, this.current.generation, "a plan committed on a generation it was not planned from");
    this.current = decodeStoreState(encodeStoreState({ ...this.current, generation: plan.baseGeneration + 1, volumes: [...plan.volumesAfter()] }));
  }

  /** The whole table, as a rejoining apparatus loads it. */
  table(): ConfigurationTable__Output {
    return { generation: this.current.generation, lus: this.current.lus, volumes: this.current.volumes };
  }

  luIndexOf(luId: string): number {
    const lu = this.current.lus.find((candidate) => candidate.id === luId);
    assert.ok(lu !== undefined, `no LU ${luId} in the store`);
    return lu.index;
  }
}

/** How long one durable write (a store record, the arbiter's epoch file) takes to reach the disk, on the virtual clock. */
export interface DiskModel {
  readonly syncMinMs: number;
  readonly syncMaxMs: number;
}

/**
 * A write in flight at a power cut landed whole this often: a coin, since
 * whether its sectors reached the platter before the cut is anybody's guess.
 */
const landedAtCutProbability = 0.5;

/** A durable write on its way: `landed` records it as on the disk (what a reopen finds). */
interface DiskWrite {
  readonly what: string;
  readonly landed: () => void;
}

/** What happened to the device's durable writes over a run. */
export interface DiskStats {
  /** Power cuts that found a write in flight. */
  cutsMidWrite: number;
  /** Writes in flight at a power cut that landed whole anyway. */
  landedAtCut: number;
  /** Writes in flight at a power cut that did not land at all. */
  lostAtCut: number;
  /** Writes the failing disk refused (each crashed the device). */
  failed: number;
}

/**
 * The device's disk for its durable writes, one at a time in the order
 * given, as the store's log (store-log.ts) and arbiter.json are written.
 * A write lands whole or not at all: a log record is checksummed and only
 * the last can be torn, which ends the log at open; the store's slots are
 * written in turn (store-slots.ts) and arbiter.json by rename. So a power
 * cut keeps the writes that had landed, then each one in flight by a
 * seeded coin until the first that did not land (the log ends there). A
 * failing disk fails every write for a while, and a failed write crashes
 * the device (onFailure), as a failed fsync must: after one, what the page
 * cache holds is unknown.
 */
export class DeviceDisk {
  readonly stats: DiskStats = { cutsMidWrite: 0, landedAtCut: 0, lostAtCut: 0, failed: 0 };
  private readonly inFlight = new Set<DiskWrite>();
  private busyUntilMs = 0;
  private failingUntilMs = -1;
  private incarnation = 0;
  private cutArmed: (() => void) | undefined;

  constructor(private readonly world: VirtualWorld, private readonly random: Random, private readonly model: DiskModel, private readonly onFailure: (what: string) => void) {
    assert.ok(model.syncMinMs > 0 && model.syncMinMs <= model.syncMaxMs);
  }

  /**
   * Writes `what` durably: `landed` runs once it is on the disk, and the
   * promise resolves then. Neither happens when the disk fails it; at a
   * power cut first, `landed` runs if the coin says it landed and the
   * promise never settles (nobody is left to answer).
   */
  write(what: string, landed: () => void): Promise<void> {
    const entry: DiskWrite = { what, landed };
    const incarnation = this.incarnation;
    this.busyUntilMs = Math.max(this.busyUntilMs, this.world.nowMs) + this.random.between(this.model.syncMinMs, this.model.syncMaxMs);
    this.inFlight.add(entry);
    const cut = this.cutArmed;
    this.cutArmed = undefined;
    // Strictly before this write lands: the cut finds it (and the writes before it still queued) in flight.
    if (cut !== undefined) this.world.scheduleAt(this.random.between(this.world.nowMs, this.busyUntilMs), cut);
    return new Promise<void>((resolve) => {
      this.world.scheduleAt(this.busyUntilMs, () => {
        if (incarnation !== this.incarnation) return;
        this.inFlight.delete(entry);
        if (this.world.nowMs < this.failingUntilMs) {
          this.stats.failed += 1;
          this.world.note(`device disk fails the write of ${what}`);
          this.onFailure(what);
          return;
        }
        landed();
        resolve();
      });
    });
  }

  /** Power is cut: each write in flight landed whole or not at all, in order, and the first that did not ends what the disk holds. */
  powerCut(): void {
    this.incarnation += 1;
    this.busyUntilMs = this.world.nowMs;
    if (this.inFlight.size > 0) this.stats.cutsMidWrite += 1;
    let ended = false;
    for (const entry of this.inFlight) {
      ended = ended || !this.random.chance(landedAtCutProbability);
      this.world.note(`power cut: ${entry.what} ${ended ? "did not land" : "landed whole"}`);
      if (ended) {
        this.stats.lostAtCut += 1;
        continue;
      }
      this.stats.landedAtCut += 1;
      entry.landed();
    }
    this.inFlight.clear();
  }

  /** Every write fails for `forMs` from now (a failing disk, or a full one). */
  failFor(forMs: number): void {
    this.failingUntilMs = Math.max(this.failingUntilMs, this.world.nowMs + forMs);
  }

  /** The disk works again and no cut waits for a write: faults stop at the end of a run. */
  heal(): void {
    this.failingUntilMs = -1;
    this.cutArmed = undefined;
  }

  /** Calls `cut` at a seeded moment while the next write is in flight. */
  armCut(cut: () => void): void {
    this.cutArmed = cut;
  }
}

/**
 * The configuration store of the cluster's device under power cuts: what
 * the device serves from and what a reopen finds. A commit is answered
 * once its record is on the disk (store-log.ts: each record fsynced before
 * its commit is answered), so a power cut may lose a commit nobody was told
 * of, never one that was acknowledged; the store reopens at the last
 * record that landed. `acksBeforeSync` plants the bug where the answer (and
 * the served state) comes first and the record is written after.
 */
export class DurableStore {
  private served: StoreState__Output;
  private servedSequence = 1;
  private durable: { state: StoreState__Output; sequence: number };
  /** The highest sequence a commit was answered with: a reopen below it lost an acknowledged commit. */
  private acknowledgedSequence = 1;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(initial: StoreState, private readonly disk: DeviceDisk, private readonly acksBeforeSync: boolean, private readonly installed: () => void) {
    this.served = decodeStoreState(encodeStoreState(initial));
    this.durable = { state: this.served, sequence: this.servedSequence };
  }

  get state(): StoreState__Output {
    return this.served;
  }

  get sequence(): number {
    return this.servedSequence;
  }

  /**
   * One store write, after those before it (the store writes one record at
   * a time): `make` checks the request against the state then current and
   * returns the next state, or throws a refusal. Resolves with the new
   * sequence when the write is acknowledged.
   */
  write(make: (current: StoreState__Output) => StoreState__Output): Promise<number> {
    const turn = this.tail.then(() => this.writeNow(make(this.served)));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private writeNow(next: StoreState__Output): Promise<number> {
    const sequence = this.servedSequence + 1;
    const landed = (): void => {
      if (sequence > this.durable.sequence) this.durable = { state: next, sequence };
    };
    const written = this.disk.write(`store record ${sequence}`, landed);
    if (this.acksBeforeSync) {
      this.install(next, sequence);
      return Promise.resolve(sequence);
    }
    return written.then(() => {
      this.install(next, sequence);
      return sequence;
    });
  }

  private install(next: StoreState__Output, sequence: number): void {
    this.served = next;
    this.servedSequence = sequence;
    this.acknowledgedSequence = Math.max(this.acknowledgedSequence, sequence);
    this.installed();
  }

  /**
   * After a power cut: the store opens at the last record that landed, and
   * writes queued behind the cut are gone with the process. Says what was
   * lost if an acknowledged commit was.
   */
  reopen(): string | undefined {
    this.tail = Promise.resolve();
    this.served = decodeStoreState(encodeStoreState(this.durable.state));
    this.servedSequence = this.durable.sequence;
    this.installed();
    if (this.durable.sequence >= this.acknowledgedSequence) return undefined;
    const lost = `store: a commit was acknowledged at sequence ${this.acknowledgedSequence}, and after a power cut the store reopened at sequence ${this.durable.sequence} (generation ${this.durable.state.generation})`;
    this.acknowledgedSequence = this.durable.sequence;
    return lost;
  }
}
