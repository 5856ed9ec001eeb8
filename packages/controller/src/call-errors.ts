/**
 * How the controller reads a failed call to a device or an apparatus: no
 * answer (the peer may never have seen it, so a timeout or a check of the
 * outcome decides) or a refusal (it answered, and said no).
 */
import * as grpc from "@grpc/grpc-js";
import { isRpcError } from "@switchyard/proto";

/** gRPC failures that mean "did not answer". */
const silentStatuses: ReadonlySet<number> = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);

/** Whether a call failed for want of an answer rather than by a refusal. */
export function isSilence(error: unknown): boolean {
  return isRpcError(error) && silentStatuses.has(error.code);
}

/** The peer's reason for a refusal, as it gave it. */
export function refusalMessage(error: unknown): string {
  return isRpcError(error) ? error.details : String(error);
}
