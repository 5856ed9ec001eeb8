// Goal: the controller's Control stream carries the change protocol exactly
// as the unary calls do: reports, repeats answered as before, refusals with
// the unary status and message; an unanswered message fails at its timeout
// without holding up the others; an apparatus without the stream gets unary
// calls. Method: a real apparatus (in-memory LUs) served over gRPC on
// 127.0.0.1, driven by the controller's ControlStream; the same apparatus
// served without Control; and a peer whose stream never answers.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualizationApparatus, apparatusHandlers, serveApparatus, type ServedApparatus } from "@switchyard/apparatus";
import { MemoryLu, memoryBackends, oneVolumeTable } from "@switchyard/apparatus/testing";
import { ControlStream } from "@switchyard/controller";
import { bindGrpc, callUnary, controlChannelOptions, loadGrpc, type ApparatusClient, type ApparatusState__Output } from "@switchyard/proto";

const extentSizeBytes = 1 << 20;
const luSizeBytes = 8 * extentSizeBytes;
const timeoutMs = 2_000;
/** Short, for the peer that never answers. */
const silentTimeoutMs = 200;
const range = { volume: "v", offset_bytes: 0, length_bytes: extentSizeBytes };
const row = { volume: "v", extent_index: 0, lu_index: 1, area_index: 2 };

let served: ServedApparatus;
let unaryOnlyServer: grpc.Server;
let silentServer: grpc.Server;
let unaryOnlyPort = 0;
let silentPort = 0;
const clients: ApparatusClient[] = [];
const streams: ControlStream[] = [];

async function apparatusAtGeneration1(id: string): Promise<VirtualizationApparatus> {
  const apparatus = new VirtualizationApparatus({ id, backends: memoryBackends([new MemoryLu(luSizeBytes), new MemoryLu(luSizeBytes)]) });
  await apparatus.loadTable(3, oneVolumeTable(1, 2, luSizeBytes, extentSizeBytes, "v", [0, 0], [0, 1]));
  return apparatus;
}

function connect(address: string): { client: ApparatusClient; control: ControlStream } {
  const client = new (loadGrpc().switchyard.v1.Apparatus)(address, grpc.credentials.createInsecure(), controlChannelOptions);
  const control = new ControlStream(client);
  clients.push(client);
  streams.push(control);
  return { client, control };
}

beforeAll(async () => {
  served = await serveApparatus(await apparatusAtGeneration1("a"), { host: "127.0.0.1", nbdPort: 0, grpcPort: 0 });
  // The unary methods only, as an apparatus that predates the Control stream serves them.
  const handlers = apparatusHandlers(await apparatusAtGeneration1("u"));
  unaryOnlyServer = new grpc.Server();
  unaryOnlyServer.addService(loadGrpc().switchyard.v1.Apparatus.service, {
    GetState: handlers.GetState, LoadTable: handlers.LoadTable, Register: handlers.Register,
    Hold: handlers.Hold, Apply: handlers.Apply, Release: handlers.Release, Abort: handlers.Abort,
  });
  silentServer = new grpc.Server();
  // A peer that reads every Control message and answers none.
  silentServer.addService(loadGrpc().switchyard.v1.Apparatus.service, { Control: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.on("data", () => undefined) });
  [unaryOnlyPort, silentPort] = await Promise.all([bindGrpc(unaryOnlyServer, "127.0.0.1", 0), bindGrpc(silentServer, "127.0.0.1", 0)]);
});

afterAll(async () => {
  for (const control of streams) control.close();
  for (const client of clients) client.close();
  unaryOnlyServer.forceShutdown();
  silentServer.forceShutdown();
  await served.close();
});

describe("Control stream", () => {
  it("runs a whole change, answers a repeated Hold as before, and refuses with the unary statuses", async () => {
    const { client, control } = connect(served.grpcAddress);
    const stale = control.hold({ change_id: "c0", epoch: 2, base_generation: 1, ranges: [range], mode: "HOLD_MODE_ALL" }, timeoutMs);
    await expect(stale).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: expect.stringMatching(/stale epoch 2/) as string });
    const hold = { change_id: "c1", epoch: 3, base_generation: 1, ranges: [range], mode: "HOLD_MODE_WRITES" as const };
    const [first, repeated] = await Promise.all([control.hold(hold, timeoutMs), control.hold(hold, timeoutMs)]);
    expect(repeated).toEqual(first);
    const unknown = control.apply({ change_id: "c9", epoch: 3, diff: { base_generation: 1, generation: 2, rows: [row] } }, timeoutMs);
    await expect(unknown).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: expect.stringMatching(/pending change is c1/) as string });
    const applied = await control.apply({ change_id: "c1", epoch: 3, diff: { base_generation: 1, generation: 2, rows: [row] } }, timeoutMs);
    expect(applied).toMatchObject({ apparatus_id: "a", change_id: "c1", generation: 2 });
    await control.release({ change_id: "c1", epoch: 3 }, timeoutMs);
    const after = await callUnary<ApparatusState__Output>((done) => client.GetState({}, done));
    expect(after).toMatchObject({ status: "APPARATUS_STATUS_SERVING", generation: 2, pending_change_id: "", holds: [] });
  });

  it("sends unary calls to an apparatus that does not serve Control", async () => {
    const { client, control } = connect(`127.0.0.1:${unaryOnlyPort}`);
    await control.hold({ change_id: "u1", epoch: 3, base_generation: 1, ranges: [range], mode: "HOLD_MODE_WRITES" }, timeoutMs);
    await control.abort({ change_id: "u1", epoch: 3 }, timeoutMs);
    await control.release({ change_id: "u1", epoch: 3 }, timeoutMs);
    const after = await callUnary<ApparatusState__Output>((done) => client.GetState({}, done));
    expect(after).toMatchObject({ status: "APPARATUS_STATUS_SERVING", generation: 1, pending_change_id: "" });
  });

  it("fails an unanswered message as DEADLINE_EXCEEDED at its timeout", async () => {
    const { control } = connect(`127.0.0.1:${silentPort}`);
    const startedMs = performance.now();
    const hold = control.hold({ change_id: "s1", epoch: 3, base_generation: 1, ranges: [range], mode: "HOLD_MODE_WRITES" }, silentTimeoutMs);
    await expect(hold).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(silentTimeoutMs - 5);
  });
});
