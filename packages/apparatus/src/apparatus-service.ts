/**
 * The Apparatus gRPC service over a VirtualizationApparatus. Operating errors
 * become gRPC statuses here, in one place; anything else is a broken
 * invariant and is answered INTERNAL.
 */
import * as grpc from "@grpc/grpc-js";
import { type ApparatusHandlers, type RpcFailure, unaryHandler } from "@switchyard/proto";
import type { VirtualizationApparatus } from "./apparatus.js";
import { ApparatusError, grpcStatusOf } from "./errors.js";

function mapError(error: unknown): RpcFailure {
  if (error instanceof ApparatusError) return { code: grpcStatusOf(error.code), details: error.message };
  return { code: grpc.status.INTERNAL, details: `internal error: ${String(error)}` };
}

function unary<Request, Response>(body: (request: Request) => Promise<Response> | Response): grpc.handleUnaryCall<Request, Response> {
  return unaryHandler(body, mapError);
}

export function apparatusHandlers(apparatus: VirtualizationApparatus): ApparatusHandlers {
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
  };
}
