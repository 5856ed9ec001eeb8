/**
 * How a migration tries a step again (a change that aborted, a call to a
 * device that is restarting): a second apart, a few times after answers
 * that failed, and no try at all after a refusal that no retry changes.
 */
import { ControllerError } from "./errors.js";

/** Tries of one step whose failures were answers (a change that aborted) before the migration fails. */
export const stepAttemptsMax = 5;
/** Pause between tries of one step. */
export const stepRetryPauseMs = 1_000;

/** Refusals that no retry changes: the request itself is wrong for the cluster as it is. */
const permanentCodes: ReadonlySet<string> = new Set(["INVALID_ARGUMENT", "NOT_FOUND", "OUT_OF_RANGE", "FAILED_PRECONDITION", "NO_SPACE", "LIMIT"]);

export function isPermanentRefusal(error: unknown): boolean {
  return error instanceof ControllerError && permanentCodes.has(error.code);
}

/** This controller lost the lease: the migration stops, and its successor resumes it. */
export function isLeaseLost(error: unknown): boolean {
  return error instanceof ControllerError && error.code === "NOT_CONTROLLER";
}
