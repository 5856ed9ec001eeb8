/**
 * How a case says what it expected: a CheckFailure carries one sentence a
 * tester can act on (what was sent, what was expected, what came back).
 * Any other error a case meets (a dropped connection, a timeout) fails the
 * case too, with its own message.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isRpcError } from "@switchyard/proto";

export class CheckFailure extends Error {
  readonly code = "CHECK_FAILED";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CheckFailure";
  }
}

/**
 * A case that cannot check what it is about in this run (it needs the
 * suite's own device, say): reported as skipped with this reason, never as
 * passed.
 */
export class SkipCase extends Error {
  readonly code = "CASE_SKIPPED";
  constructor(reason: string) {
    super(reason);
    this.name = "SkipCase";
  }
}

export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

/** gRPC status names, for messages. */
const statusNames: Readonly<Record<number, string>> = {
  0: "OK", 1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND", 6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS", 16: "UNAUTHENTICATED",
};

export function statusName(code: number): string {
  return statusNames[code] ?? `status ${code}`;
}

/** Resolves when `call` is refused with `code`; a CheckFailure if it succeeds or fails otherwise. */
export async function expectRefused(call: Promise<unknown>, code: number, what: string): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (isRpcError(error, code)) return;
    const got = isRpcError(error) ? `${statusName(error.code)} (${error.details})` : String(error);
    throw new CheckFailure(`${what}: expected ${statusName(code)}, got ${got}`, { cause: error });
  }
  throw new CheckFailure(`${what}: expected ${statusName(code)}, but it was accepted`);
}

/** A request whose outcome the case looks at later without awaiting it. */
export interface Tracked {
  readonly settled: boolean;
  readonly error: unknown;
  readonly settledAtMs: number | undefined;
  readonly done: Promise<void>;
}

export function track(operation: Promise<unknown>): Tracked {
  const state: { settled: boolean; error: unknown; settledAtMs: number | undefined } = { settled: false, error: undefined, settledAtMs: undefined };
  const done = operation.then(
    () => {
      state.settled = true;
      state.settledAtMs = performance.now();
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
      state.settledAtMs = performance.now();
    },
  );
  return {
    get settled() {
      return state.settled;
    },
    get error() {
      return state.error;
    },
    get settledAtMs() {
      return state.settledAtMs;
    },
    done,
  };
}

/** Waits for `work` at most `timeoutMs`, and leaves no timer behind to keep the process alive. */
export async function waitAtMost(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([work.then(() => undefined, () => undefined), elapsed]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `tracked` at most `timeoutMs`; true if it settled. */
export async function settlesWithin(tracked: Tracked, timeoutMs: number): Promise<boolean> {
  await waitAtMost(tracked.done, timeoutMs);
  return tracked.settled;
}

/** Polls `condition` every `intervalMs` until it holds or `timeoutMs` passes. */
export async function eventually(condition: () => Promise<boolean>, timeoutMs: number, intervalMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
