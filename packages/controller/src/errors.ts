/**
 * Operating errors of the controller, with stable codes, mapped to gRPC status
 * codes in one exhaustive switch.
 */
import * as grpc from "@grpc/grpc-js";
import { isRpcError, type RpcFailure } from "@switchyard/proto";

export type ControllerErrorCode =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "OUT_OF_RANGE"
  | "FAILED_PRECONDITION"
  | "ALREADY_EXISTS"
  | "NO_SPACE"
  | "LIMIT"
  | "NOT_CONTROLLER"
  | "STALE_EPOCH"
  | "UNAVAILABLE"
  /** The change was not made (a store write the device could not make durable): nothing changed, try it again. */
  | "ABORTED"
  | "NOT_IMPLEMENTED";

export class ControllerError extends Error {
  readonly code: ControllerErrorCode;
  constructor(code: ControllerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ControllerError";
    this.code = code;
  }
}

function grpcStatusOf(code: ControllerErrorCode): grpc.status {
  switch (code) {
    case "INVALID_ARGUMENT":
      return grpc.status.INVALID_ARGUMENT;
    case "NOT_FOUND":
      return grpc.status.NOT_FOUND;
    case "OUT_OF_RANGE":
      return grpc.status.OUT_OF_RANGE;
    case "FAILED_PRECONDITION":
      return grpc.status.FAILED_PRECONDITION;
    case "ALREADY_EXISTS":
      return grpc.status.ALREADY_EXISTS;
    case "NO_SPACE":
    case "LIMIT":
      return grpc.status.RESOURCE_EXHAUSTED;
    case "STALE_EPOCH":
      return grpc.status.FAILED_PRECONDITION;
    case "NOT_CONTROLLER":
    case "UNAVAILABLE":
      return grpc.status.UNAVAILABLE;
    case "ABORTED":
      return grpc.status.ABORTED;
    case "NOT_IMPLEMENTED":
      return grpc.status.UNIMPLEMENTED;
  }
}

/** The controller service's error mapping: typed errors keep their meaning, a peer's gRPC error passes through. */
export function mapControllerError(error: unknown): RpcFailure {
  if (error instanceof ControllerError) return { code: grpcStatusOf(error.code), details: error.message };
  if (isRpcError(error)) return { code: error.code, details: error.details };
  return { code: grpc.status.INTERNAL, details: `internal error: ${String(error)}` };
}
