/**
 * Ports a command is about to listen on: each named with the option that
 * sets it, so that a port already taken is refused with one line naming
 * both (exit code 2), before anything has started; and, for `switchyard up`
 * given no port option, whether its default ports are free at all.
 */
import { createServer } from "node:net";
import { UsageError } from "./usage.js";

/** A port a command will listen on, the option that sets it, and what listens there. */
export interface PortClaim {
  readonly port: number;
  /** Where it listens, if not on the host the command checks by default. */
  readonly host?: string;
  readonly option: string;
  readonly what: string;
}

/** A port someone else listens on: the user passes another with `option`. */
export class PortTakenError extends UsageError {
  readonly code = "PORT_TAKEN";

  constructor(readonly claim: PortClaim, cause: Error) {
    const why = "code" in cause && cause.code === "EADDRINUSE" ? "is already in use" : `cannot be listened on (${cause.message})`;
    super(`port ${claim.port} (${claim.what}) ${why}; pass ${claim.option} with a free port, or ${claim.option} 0 for a free one`);
    this.name = "PortTakenError";
    this.cause = cause;
  }
}

/** Resolves to the error a listen on host:port met (EADDRINUSE, EACCES…), or undefined if it could listen. */
function listenProblem(host: string, port: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error) => {
      resolve(error);
    });
    // exclusive: a port another process shares through the cluster module is taken for us too.
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => {
        resolve(undefined);
      });
    });
  });
}

/** The first claim whose port cannot be listened on, and why; port 0 (any free port) is never taken. */
export async function firstTakenPort(host: string, claims: readonly PortClaim[]): Promise<{ claim: PortClaim; problem: Error } | undefined> {
  for (const claim of claims) {
    if (claim.port === 0) continue;
    const problem = await listenProblem(claim.host ?? host, claim.port);
    if (problem !== undefined) return { claim, problem };
  }
  return undefined;
}

/** Throws PortTakenError for the first claim whose port is taken. */
export async function checkPortsFree(host: string, claims: readonly PortClaim[]): Promise<void> {
  const taken = await firstTakenPort(host, claims);
  if (taken !== undefined) throw new PortTakenError(taken.claim, taken.problem);
}
