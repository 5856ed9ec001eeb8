/**
 * How the console reports what went wrong: exit codes, and the one line the
 * CLI prints (the web console's forms answer with the same line).
 */
import { status } from "@grpc/grpc-js";
import { isRpcError } from "@switchyard/proto";
import { UsageError } from "./usage.js";

export const exitDone = 0;
export const exitFailed = 1;
export const exitUsage = 2;

/** gRPC statuses that mean the request itself was wrong: the user fixes the command, exit 2. */
const usageStatuses: ReadonlySet<number> = new Set([status.INVALID_ARGUMENT, status.OUT_OF_RANGE, status.NOT_FOUND, status.ALREADY_EXISTS]);

/** What went wrong as the one line the CLI prints, and its exit code; the web console answers its forms with the same. */
export function failureLine(error: unknown): { line: string; code: number } {
  if (error instanceof UsageError) return { line: error.message, code: exitUsage };
  if (isRpcError(error)) {
    const code = usageStatuses.has(error.code) ? exitUsage : exitFailed;
    // A plain client of a server with mutual TLS fails the handshake, which reads as UNAVAILABLE too.
    if (error.code === status.UNAVAILABLE) {
      return { line: `the appliance did not answer (${error.details}); is 'switchyard up' running? (unless started with --insecure it answers only a certificate of its CA: give --dir DIR or --cert-dir FOLDER)`, code };
    }
    return { line: error.details, code };
  }
  return { line: error instanceof Error ? error.message : String(error), code: exitFailed };
}

