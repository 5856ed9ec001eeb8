/**
 * Operating errors of the apparatus's control interface, with stable codes,
 * mapped to gRPC status codes in one place (`grpcStatusOf`).
 */
import { status } from "@grpc/grpc-js";

export type ApparatusErrorCode =
  | "STALE_EPOCH"
  | "WRONG_GENERATION"
  | "INVALID_TABLE"
  | "INVALID_DIFF"
  | "INVALID_HOLD"
  | "INVALID_REGISTRATION"
  | "INVALID_CONTROL"
  | "UNKNOWN_CHANGE"
  | "CHANGE_IN_PROGRESS"
  | "DRAIN_TIMEOUT"
  | "FENCED";

export class ApparatusError extends Error {
  readonly code: ApparatusErrorCode;
  constructor(code: ApparatusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ApparatusError";
    this.code = code;
  }
}

export function grpcStatusOf(code: ApparatusErrorCode): status {
  switch (code) {
    case "STALE_EPOCH":
    case "WRONG_GENERATION":
    case "CHANGE_IN_PROGRESS":
    case "FENCED":
      return status.FAILED_PRECONDITION;
    case "INVALID_TABLE":
    case "INVALID_DIFF":
    case "INVALID_HOLD":
    case "INVALID_REGISTRATION":
    case "INVALID_CONTROL":
      return status.INVALID_ARGUMENT;
    case "UNKNOWN_CHANGE":
      return status.NOT_FOUND;
    case "DRAIN_TIMEOUT":
      return status.DEADLINE_EXCEEDED;
  }
}
