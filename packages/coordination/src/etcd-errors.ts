/**
 * The etcd client's errors as coordination errors: the one place they are
 * mapped. An error that is not the etcd client's (or ours) is rethrown
 * unchanged: it is a broken invariant, not an operating error.
 */
import { status as grpcStatus } from "@grpc/grpc-js";
import { CoordinationError } from "./coordination.js";
import { etcdLibrary } from "./etcd-library.js";

/**
 * How long one etcd call may take: a member that died is skipped by the
 * client's next attempt, and a leader election at etcd takes about one
 * election timeout (500 ms in scripts/etcd-cluster.sh, 1 s by etcd's
 * default), so 2 s covers one.
 */
export const etcdCallTimeoutMs = 2_000;
/** How long the client waits to connect to a member before trying another. */
export const etcdDialTimeoutMs = 2_000;

/**
 * cockatiel's error when every member's circuit breaker is open (the etcd
 * client's per-member policy): all members failed recently. The class is not
 * reachable from here (cockatiel is the client's dependency), so its name is.
 */
const brokenCircuitErrorName = "BrokenCircuitError";

export function asCoordinationError(what: string, error: unknown): CoordinationError {
  if (error instanceof CoordinationError) return error;
  if (!(error instanceof Error)) throw error;
  const message = `${what}: ${error.message}`;
  // Only an etcd call's failure comes here, so the library is loaded already.
  const { ClientClosedError, EtcdError, EtcdLeaseInvalidError, GRPCGenericError, GRPCInvalidArgumentError, GRPCResourceExhastedError } = etcdLibrary();
  if (error instanceof EtcdLeaseInvalidError) return new CoordinationError("LEASE_LOST", message, { cause: error });
  if (error instanceof GRPCInvalidArgumentError) return new CoordinationError("INVALID_ARGUMENT", message, { cause: error });
  if (error instanceof GRPCResourceExhastedError) return new CoordinationError("LIMIT_EXCEEDED", message, { cause: error });
  if (error instanceof GRPCGenericError || error instanceof EtcdError || error instanceof ClientClosedError ||
    error.name === brokenCircuitErrorName) {
    return new CoordinationError("UNAVAILABLE", message, { cause: error });
  }
  // A stream's error reaches us as grpc-js raised it, not cast by the etcd client.
  if (isUnanswered(error)) return new CoordinationError("UNAVAILABLE", message, { cause: error });
  throw error;
}

/** The gRPC statuses of a call that got no answer: retry it, perhaps on another member. */
const unansweredStatuses: ReadonlySet<number> = new Set([grpcStatus.UNAVAILABLE, grpcStatus.DEADLINE_EXCEEDED, grpcStatus.CANCELLED]);

function isUnanswered(error: Error): boolean {
  return "code" in error && typeof error.code === "number" && unansweredStatuses.has(error.code);
}
