/**
 * Every call the controller makes to one apparatus, as a port: the change
 * protocol's phases (claims 1, 6, 9), its state, whole-table loads and
 * registration (claim 3). Production passes `grpcApparatusPort`: the phases
 * go as numbered messages on one Control stream (control-stream.ts), the
 * rest as unary calls; the simulator passes apparatuses on its virtual
 * network. A call that gets no answer rejects with an error `isSilence`
 * (call-errors.ts) recognises; a refusal rejects with the apparatus's reason.
 */
import * as grpc from "@grpc/grpc-js";
import {
  callUnary,
  deadlineAfter,
  loadGrpc,
  type AbortReport__Output,
  type AbortRequest,
  type ApparatusClient,
  type ApparatusState__Output,
  type ApplyReport__Output,
  type ApplyRequest,
  type HoldReport__Output,
  type HoldRequest,
  type LoadTableRequest,
  type RegisterRequest,
  type ReleaseReport__Output,
  type ReleaseRequest,
  type RelayLink,
} from "@switchyard/proto";
import { ControlStream } from "./control-stream.js";
import { linkedChannelOptions } from "./process-links.js";

export interface ApparatusPort {
  hold(request: HoldRequest, timeoutMs: number): Promise<HoldReport__Output>;
  apply(request: ApplyRequest, timeoutMs: number): Promise<ApplyReport__Output>;
  release(request: ReleaseRequest, timeoutMs: number): Promise<ReleaseReport__Output>;
  abort(request: AbortRequest, timeoutMs: number): Promise<AbortReport__Output>;
  getState(timeoutMs: number): Promise<ApparatusState__Output>;
  loadTable(request: LoadTableRequest, timeoutMs: number): Promise<void>;
  register(request: RegisterRequest, timeoutMs: number): Promise<void>;
  close(): void;
}

/** Makes the port of the apparatus at a gRPC address. */
export type ApparatusPortFactory = (grpcAddress: string) => ApparatusPort;

/** The Apparatus service at `address` over gRPC, or over `link` if it serves in this process (rpc-relay-link.ts). */
export function grpcApparatusPort(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(), link?: RelayLink): ApparatusPort {
  const client: ApparatusClient = new (loadGrpc().switchyard.v1.Apparatus)(address, credentials, linkedChannelOptions(link));
  const control = new ControlStream(client);
  const within = (timeoutMs: number): grpc.CallOptions => ({ deadline: deadlineAfter(timeoutMs) });
  return {
    hold: (request, timeoutMs) => control.hold(request, timeoutMs),
    apply: (request, timeoutMs) => control.apply(request, timeoutMs),
    release: (request, timeoutMs) => control.release(request, timeoutMs),
    abort: (request, timeoutMs) => control.abort(request, timeoutMs),
    getState: (timeoutMs) => callUnary((done) => client.GetState({}, within(timeoutMs), done)),
    loadTable: async (request, timeoutMs) => {
      await callUnary((done) => client.LoadTable(request, within(timeoutMs), done));
    },
    register: async (request, timeoutMs) => {
      await callUnary((done) => client.Register(request, within(timeoutMs), done));
    },
    close: () => {
      control.close();
      client.close();
    },
  };
}
