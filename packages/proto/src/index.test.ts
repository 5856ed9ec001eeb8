// Goal: the proto package loads every service and round-trips the store
// codec. Method: load the real .proto files; encode and decode a StoreState
// and a StoreDelta.
import { describe, expect, it } from "vitest";
import { decodeStoreDelta, decodeStoreState, encodeStoreDelta, encodeStoreState, loadGrpc } from "./index.js";

describe("proto", () => {
  it("loads every service with its methods", () => {
    const v1 = loadGrpc().switchyard.v1;
    expect(Object.keys(v1.Apparatus.service)).toContain("Hold");
    expect(Object.keys(v1.Controller.service)).toContain("SubmitChange");
    expect(Object.keys(v1.Device.service)).toContain("AcquireLease");
    expect(Object.keys(loadGrpc().grpc.health.v1.Health.service)).toEqual(["Check", "List", "Watch"]);
  });

  it("round-trips the store state, extent columns included", () => {
    const bytes = encodeStoreState({
      generation: 7,
      volumes: [{ name: "v", size_bytes: 8 << 20, extent_size_bytes: 4 << 20, extents: { lu_index: [0, 1], area_index: [3, 9] } }],
    });
    const state = decodeStoreState(bytes);
    expect(state.generation).toBe(7);
    expect(state.volumes[0]?.extents?.area_index).toEqual([3, 9]);
    expect(state.journal).toEqual([]);
  });

  it("takes enums by name, as gRPC messages carry them", () => {
    const bytes = encodeStoreState({ journal: [{ change_id: "c", state: "CHANGE_STATE_COMMITTED", hold_mode: "HOLD_MODE_NONE" }] });
    expect(decodeStoreState(bytes).journal[0]).toMatchObject({ state: "CHANGE_STATE_COMMITTED", hold_mode: "HOLD_MODE_NONE" });
  });

  it("takes enums by name in every journal entry of a store delta", () => {
    const bytes = encodeStoreDelta({
      journal_entry: { change_id: "c2", state: "CHANGE_STATE_COMMITTED", hold_mode: "HOLD_MODE_WRITES" },
      earlier_journal_entries: [{ change_id: "c1", state: "CHANGE_STATE_COMMITTED" }],
    });
    const delta = decodeStoreDelta(bytes);
    expect([delta.journal_entry?.state, delta.earlier_journal_entries.map((entry) => entry.state)]).toEqual(["CHANGE_STATE_COMMITTED", ["CHANGE_STATE_COMMITTED"]]);
    expect([delta.journal_entry?.hold_mode, delta.earlier_journal_entries[0]?.hold_mode]).toEqual(["HOLD_MODE_WRITES", "HOLD_MODE_UNSPECIFIED"]);
  });

  it("refuses a state that does not fit the schema", () => {
    expect(() => encodeStoreState({ generation: "x" })).toThrow(/schema/);
  });
});
