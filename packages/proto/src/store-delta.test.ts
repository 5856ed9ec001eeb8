/**
 * The one delta applier (store-delta.ts), in memory: a delta is checked
 * whole and a bad one changes nothing; refusals carry a stable code each
 * store maps to its own (the device's STALE_GENERATION and
 * INVALID_ARGUMENT, the coordination's).
 */
import { describe, expect, it } from "vitest";
import { decodeStoreState, encodeStoreState } from "./index.js";
import { applyStoreDelta, checkStoreDelta, StoreDeltaError } from "./store-delta.js";
import type { StoreDelta__Output } from "./gen/switchyard/v1/StoreDelta.js";
import type { StoreState__Output } from "./gen/switchyard/v1/StoreState.js";

const mebibyte = 1 << 20;

function storeWithVolume(): StoreState__Output {
  return decodeStoreState(encodeStoreState({
    generation: 4,
    lus: [{ index: 0, id: "lu0", size_bytes: 8 * mebibyte, extent_size_bytes: mebibyte }],
    volumes: [{ name: "v", size_bytes: 2 * mebibyte, extent_size_bytes: mebibyte, extents: { lu_index: [0, 0], area_index: [1, 2] } }],
  }));
}

function delta(fields: Partial<StoreDelta__Output>): StoreDelta__Output {
  return { diff: null, journal_entry: null, earlier_journal_entries: [], ...fields };
}

function refusal(state: StoreState__Output, bad: StoreDelta__Output): StoreDeltaError {
  try {
    checkStoreDelta(state, bad);
  } catch (error) {
    if (error instanceof StoreDeltaError) return error;
    throw error;
  }
  throw new Error("the delta was accepted");
}

describe("store delta", () => {
  it("folds a diff's rows and its journal record, and moves the generation on", () => {
    const state = storeWithVolume();
    const next = delta({
      diff: { base_generation: 4, generation: 5, shapes: [], lus_added: [], rows: [{ volume: "v", extent_index: 1, lu_index: 0, area_index: 6, mirror_lu_index_plus_one: 0, mirror_area_index: 0, mirror_watermark_bytes: 0 }] },
    });
    checkStoreDelta(state, next);
    applyStoreDelta(state, next);
    expect(state.generation).toBe(5);
    expect(state.volumes[0]?.extents?.area_index).toEqual([1, 6]);
  });

  it("refuses a diff from another generation as STALE_GENERATION, and a row past the volume as INVALID_ARGUMENT", () => {
    const state = storeWithVolume();
    const row = { volume: "v", extent_index: 0, lu_index: 0, area_index: 3, mirror_lu_index_plus_one: 0, mirror_area_index: 0, mirror_watermark_bytes: 0 };
    const stale = refusal(state, delta({ diff: { base_generation: 3, generation: 4, shapes: [], lus_added: [], rows: [row] } }));
    expect(stale).toMatchObject({ code: "STALE_GENERATION", baseGeneration: 3, storedGeneration: 4 });
    const past = refusal(state, delta({ diff: { base_generation: 4, generation: 5, shapes: [], lus_added: [], rows: [{ ...row, extent_index: 2 }] } }));
    expect(past.code).toBe("INVALID_ARGUMENT");
    expect(refusal(state, delta({})).code).toBe("INVALID_ARGUMENT");
    expect(state).toEqual(storeWithVolume());
  });
});
