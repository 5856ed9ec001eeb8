/**
 * How the controller reads a failed call to a device or an apparatus: no
 * answer (the peer may never have seen it, so a timeout or a check of the
 * outcome decides) or a refusal (it answered, and said no).
 */
import * as grpc from "@grpc/grpc-js";
import { errorCodeOf, isRpcError } from "@switchyard/proto";

/** gRPC failures that mean "did not answer". */
const silentStatuses: ReadonlySet<number> = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED]);

/** Whether a call failed for want of an answer rather than by a refusal. */
export function isSilence(error: unknown): boolean {
  return isRpcError(error) && silentStatuses.has(error.code);
}

/**
 * Whether the device answered that its store could not write (its
 * DeviceError IO_FAILED, named in the trailers): the store refused the
 * write and keeps its last committed state, so the write was not made.
 * The status is UNAVAILABLE, as for silence, and isSilence still counts it
 * so wherever an unknown outcome is the safe reading; where the difference
 * matters, this is asked first. A silence is never taken for a refusal:
 * an answer lost in transit, or a write still on its way, may yet be made
 * (the cluster simulation's lost answers found that: seed 943).
 */
export function isStoreWriteRefused(error: unknown): boolean {
  return isRpcError(error) && errorCodeOf(error) === "IO_FAILED";
}

/** The peer's reason for a refusal, as it gave it. */
export function refusalMessage(error: unknown): string {
  return isRpcError(error) ? error.details : String(error);
}
