// Goal: the Apparatus gRPC service carries the change protocol over a real
// connection and maps its refusals to the right gRPC statuses with a message
// that says what was wrong. Method: serveApparatus on 127.0.0.1 over
// in-memory LUs, driven by the generated grpc-js client.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callUnary, loadGrpc, type HoldRequest, type ApparatusClient, type ApparatusState__Output, type ApplyReport__Output, type HoldReport__Output } from "@switchyard/proto";
import { VirtualizationApparatus, serveApparatus, type ServedApparatus } from "../src/index.js";
import { MemoryLu, memoryBackends, oneVolumeTable } from "../src/testing.js";

const extentSizeBytes = 1 << 20;
const luSizeBytes = 8 * extentSizeBytes;
let served: ServedApparatus;
let client: ApparatusClient;

beforeAll(async () => {
  const apparatus = new VirtualizationApparatus({ id: "a", backends: memoryBackends([new MemoryLu(luSizeBytes), new MemoryLu(luSizeBytes)]) });
  await apparatus.loadTable(3, oneVolumeTable(1, 2, luSizeBytes, extentSizeBytes, "v", [0, 0], [0, 1]));
  served = await serveApparatus(apparatus, { host: "127.0.0.1", nbdPort: 0, grpcPort: 0 });
  client = new (loadGrpc().switchyard.v1.Apparatus)(served.grpcAddress, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await served.close();
});

const range = { volume: "v", offset_bytes: 0, length_bytes: extentSizeBytes };
const row = { volume: "v", extent_index: 0, lu_index: 1, area_index: 2 };

/** 2^64 - 1: the largest uint64 on the wire, far past what a number holds exactly. */
const epochOverflow = "18446744073709551615";

describe("Apparatus service", () => {
  it("refuses an epoch of 2^64 - 1 with INVALID_ARGUMENT, unary or on the Control stream, and the next real epoch still works", async () => {
    const before = await callUnary<ApparatusState__Output>((done) => client.GetState({}, done));
    const hold: HoldRequest = { change_id: "cx", epoch: epochOverflow, base_generation: 1, ranges: [range], mode: "HOLD_MODE_ALL" };
    const refused = callUnary<HoldReport__Output>((done) => client.Hold(hold, done));
    await expect(refused).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/^epoch = 18446744073709552000 is out of range/) as string });
    const stream = client.Control();
    const reply = new Promise<unknown>((resolve) => stream.once("data", resolve));
    stream.write({ sequence: 1, hold });
    expect(await reply).toMatchObject({ sequence: 1, failure: { code: grpc.status.INVALID_ARGUMENT } });
    stream.end();
    const after = await callUnary<ApparatusState__Output>((done) => client.GetState({}, done));
    expect(after.epoch_seen).toBe(before.epoch_seen);
    expect(after.holds).toEqual([]);
    // Not wedged: the epoch the table was loaded at still holds and releases.
    await callUnary<HoldReport__Output>((done) => client.Hold({ ...hold, change_id: "cy", epoch: 3 }, done));
    await callUnary((done) => client.Abort({ change_id: "cy", epoch: 3 }, done));
    await callUnary((done) => client.Release({ change_id: "cy", epoch: 3 }, done));
  });

  it("refuses a stale epoch with FAILED_PRECONDITION and holds nothing", async () => {
    const hold = callUnary<HoldReport__Output>((done) =>
      client.Hold({ change_id: "c0", epoch: 2, base_generation: 1, ranges: [range], mode: "HOLD_MODE_ALL" }, done),
    );
    await expect(hold).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: expect.stringMatching(/stale epoch 2/) as string });
    const state = await callUnary<ApparatusState__Output>((done) => client.GetState({}, done));
    expect(state.holds).toEqual([]);
  });

  it("refuses a malformed diff with INVALID_ARGUMENT, then runs a whole change", async () => {
    await callUnary<HoldReport__Output>((done) =>
      client.Hold({ change_id: "c1", epoch: 3, base_generation: 1, ranges: [range], mode: "HOLD_MODE_WRITES" }, done),
    );
    const bad = callUnary<ApplyReport__Output>((done) =>
      client.Apply({ change_id: "c1", epoch: 3, diff: { base_generation: 1, generation: 2, rows: [{ ...row, lu_index: 9 }] } }, done),
    );
    await expect(bad).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/unknown LU index 9/) as string });
    const applied = await callUnary<ApplyReport__Output>((done) =>
      client.Apply({ change_id: "c1", epoch: 3, diff: { base_generation: 1, generation: 2, rows: [row] } }, done),
    );
    expect(applied.generation).toBe(2);
    const held = await callUnary<ApparatusState__Output>((done) => client.GetState({}, done));
    expect(held).toMatchObject({ status: "APPARATUS_STATUS_HELD", pending_change_id: "c1", pending_phase: "applied", generation: 2 });
    await callUnary((done) => client.Release({ change_id: "c1", epoch: 3 }, done));
    const after = await callUnary<ApparatusState__Output>((done) => client.GetState({}, done));
    expect(after).toMatchObject({ status: "APPARATUS_STATUS_SERVING", pending_change_id: "", holds: [] });
  });
});
