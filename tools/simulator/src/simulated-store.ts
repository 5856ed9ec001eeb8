/**
 * The configuration store as the simulator keeps it: the state the real
 * planners read, and the commit point (DESIGN step 3) as one replacement of
 * that state, through the store's own binary codec so that what the
 * planners see next is exactly what the real store would give back.
 */
import assert from "node:assert/strict";
import type { ChangePlan } from "@switchyard/controller";
import { memoryLuDescription } from "@switchyard/apparatus/testing";
import { decodeStoreState, encodeStoreState, type ConfigurationTable__Output, type StoreState, type StoreState__Output } from "@switchyard/proto";

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
