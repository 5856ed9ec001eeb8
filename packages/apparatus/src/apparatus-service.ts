/**
 * The Apparatus gRPC service over a VirtualizationApparatus. Operating errors
 * become gRPC statuses here, in one place; anything else is a broken
 * invariant and is answered INTERNAL.
 */
import * as grpc from "@grpc/grpc-js";
import { type ApparatusHandlers, type ControlReply, type ControlRequest__Output, type RpcFailure, unaryHandler } from "@switchyard/proto";
import { peerIdentity, type Identity, type LeaseHolderCheck } from "@switchyard/security";
import type { VirtualizationApparatus } from "./apparatus.js";
import { ApparatusError, grpcStatusOf } from "./errors.js";

function mapError(error: unknown): RpcFailure {
  if (error instanceof ApparatusError) return { code: grpcStatusOf(error.code), details: error.message };
  return { code: grpc.status.INTERNAL, details: `internal error: ${String(error)}` };
}

/**
 * The handlers over `apparatus`. With `holders` (a server with mutual TLS),
 * each Control message is checked as its unary call's rule would be: from
 * the certificate its epoch was granted to (apparatus-authorization.ts).
 */
export function apparatusHandlers(apparatus: VirtualizationApparatus, holders?: LeaseHolderCheck): ApparatusHandlers {
  // Every request is screened for its integers as the apparatus's behaviour says, before any handler runs.
  const screen = (request: unknown): string | undefined => apparatus.integerRefusal(request);
  function unary<Request, Response>(body: (request: Request) => Promise<Response> | Response): grpc.handleUnaryCall<Request, Response> {
    return unaryHandler(body, mapError, screen);
  }
  return {
    GetState: unary(() => apparatus.state()),
    LoadTable: unary(async (request) => {
      if (request.table === null) throw new ApparatusError("INVALID_TABLE", "LoadTable needs a table");
      await apparatus.loadTable(request.epoch, request.table);
      return { apparatus_id: apparatus.id, generation: apparatus.generation };
    }),
    Hold: unary((request) => apparatus.hold(request)),
    Apply: unary((request) => apparatus.apply(request)),
    Release: unary((request) => apparatus.release(request)),
    Abort: unary((request) => apparatus.abort(request)),
    Register: unary((request) => apparatus.register(request)),
    Control: (call) => {
      const identity = peerIdentity(call);
      call.on("data", (message: ControlRequest__Output) => {
        // Each message is answered when it is done, not in turn: a Hold that drains must not delay another's answer.
        void checkedControlReply(apparatus, message, holders === undefined || identity === undefined ? undefined : { holders, identity }).then((reply) => {
          if (!call.destroyed && call.writable) call.write(reply);
        });
      });
      call.on("end", () => call.end());
      // The controller went away (or cancelled): its messages in progress finish; their answers have nowhere to go.
      call.on("error", () => undefined);
    },
  };
}

/** The answer to one Control message, after `check` says its caller holds its epoch. Never rejects. */
async function checkedControlReply(
  apparatus: VirtualizationApparatus,
  message: ControlRequest__Output,
  check: { readonly holders: LeaseHolderCheck; readonly identity: Identity } | undefined,
): Promise<ControlReply> {
  const request = message.request === undefined ? undefined : message[message.request];
  if (check !== undefined && request != null) {
    const refused = await check.holders.refusal(`Control ${message.request ?? ""}`, check.identity, request.epoch);
    if (refused !== undefined) return { sequence: Number.isSafeInteger(message.sequence) ? message.sequence : 0, failure: { code: refused.code, details: refused.details } };
  }
  return controlReply(apparatus, message);
}

/** The answer to one Control message: what its unary call returns, or the status it fails with. Never rejects. */
async function controlReply(apparatus: VirtualizationApparatus, message: ControlRequest__Output): Promise<ControlReply> {
  const sequence = message.sequence;
  const outOfRange = apparatus.integerRefusal(message);
  if (outOfRange !== undefined) return { sequence: Number.isSafeInteger(sequence) ? sequence : 0, failure: { code: grpc.status.INVALID_ARGUMENT, details: outOfRange } };
  try {
    switch (message.request) {
      case "hold":
        return { sequence, hold: await apparatus.hold(present(message.hold)) };
      case "apply":
        return { sequence, apply: await apparatus.apply(present(message.apply)) };
      case "release":
        return { sequence, release: apparatus.release(present(message.release)) };
      case "abort":
        return { sequence, abort: apparatus.abort(present(message.abort)) };
      case undefined:
        throw new ApparatusError("INVALID_CONTROL", "a Control message carries no request");
    }
  } catch (error) {
    const failure = mapError(error);
    return { sequence, failure: { code: failure.code, details: failure.details } };
  }
}

/** The request a Control message's oneof names; the decoder never leaves it null. */
function present<Request>(request: Request | null | undefined): Request {
  if (request == null) throw new ApparatusError("INVALID_CONTROL", "a Control message names a request it does not carry");
  return request;
}
