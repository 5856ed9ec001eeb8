/**
 * The gRPC fuzz runner: sends random messages of the right type, mutated
 * encodings and random bytes to every method of the services each server
 * serves, a few calls in flight at a time, and checks every answer: a
 * status within the deadline, never UNKNOWN (a handler that threw) and never
 * INTERNAL (a broken invariant), and a message with every refusal.
 */
import * as grpc from "@grpc/grpc-js";
import { FuzzFailure, FuzzTally, type FuzzReport } from "./fuzz-report.js";
import { grpcCallDeadlineMs } from "./limits.js";
import { mutatedBytes, randomMessage, type FuzzMethod } from "./grpc-messages.js";
import { SeededRandom, caseSeed } from "./seeded-random.js";

export interface GrpcFuzzTarget {
  /** host:port of a server. */
  readonly address: string;
  /** The methods that server serves. */
  readonly methods: readonly FuzzMethod[];
}

export interface GrpcFuzzOptions {
  readonly targets: readonly GrpcFuzzTarget[];
  readonly runSeed: number;
  readonly inputsTarget: number;
  readonly onlyCaseSeed?: number;
  readonly stopAtFirstFailure?: boolean;
}

/**
 * Calls in flight at once: 16 keeps two CPUs busy while some calls wait on
 * fsync or a stream's watch (measured: 8 gave 219 inputs/s, 16 gave 345),
 * and stays far below any server's own concurrency limits.
 */
const callsInFlightMax = 16;
/** How long a stream is watched before the fuzzer cancels it: a live stream is not a hang. */
const streamWatchMs = 50;

interface CallOutcome {
  readonly code: grpc.status;
  readonly details: string;
}

/** Runs `inputsTarget` inputs; each input is one call, replayable from its case seed. */
export interface GrpcFuzzReport extends FuzzReport {
  /** How many calls ended with each status: shows how deep the inputs reached. */
  readonly statusCounts: Readonly<Record<string, number>>;
}

export async function runGrpcFuzz(options: GrpcFuzzOptions): Promise<GrpcFuzzReport> {
  const tally = new FuzzTally(options.runSeed);
  const statusCounts: Record<string, number> = {};
  const clients = options.targets.map((target) => new grpc.Client(target.address, grpc.credentials.createInsecure()));
  let nextCaseIndex = 0;
  const takeCase = (): number | undefined => {
    const stop = tally.inputs >= options.inputsTarget || (options.stopAtFirstFailure === true && tally.failureCount > 0);
    if (stop || (options.onlyCaseSeed !== undefined && nextCaseIndex > 0)) return undefined;
    nextCaseIndex += 1;
    // Counted when taken, so the workers together send exactly the target.
    tally.inputs += 1;
    return options.onlyCaseSeed ?? caseSeed(options.runSeed, nextCaseIndex - 1);
  };
  // A pool of callers, each taking the next case when its call ends: one slow call holds up no other.
  const caller = async (): Promise<void> => {
    for (let seed = takeCase(); seed !== undefined; seed = takeCase()) {
      const code = await fuzzOneCall(options.targets, clients, seed, tally);
      statusCounts[grpc.status[code]] = (statusCounts[grpc.status[code]] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: callsInFlightMax }, caller));
  } finally {
    for (const client of clients) client.close();
  }
  return { ...tally.report(), statusCounts };
}

/** One call; returns the status it ended with. */
async function fuzzOneCall(targets: readonly GrpcFuzzTarget[], clients: readonly grpc.Client[], seed: number, tally: FuzzTally): Promise<grpc.status> {
  const random = new SeededRandom(seed);
  const targetIndex = random.below(targets.length);
  const target = targets[targetIndex] as GrpcFuzzTarget;
  const client = clients[targetIndex] as grpc.Client;
  const method = random.pick(target.methods);
  const valid = method.serialize(randomMessage(random, method.requestTypeName));
  const structured = random.chance(0.6);
  const body = structured ? valid : mutatedBytes(random, valid);
  const description = `${target.address} ${method.path} ${structured ? "message" : "bytes"} ${body.subarray(0, 96).toString("hex")}${body.length > 96 ? `… (${body.length} bytes)` : ""}`;
  tally.cases += 1;
  const outcome = await callOnce(client, method, body, random.between(1, 3));
  const problem = judge(outcome, structured);
  if (problem !== undefined) tally.fail(new FuzzFailure(problem.code, seed, `${method.path}: ${problem.message}`, [description]));
  return outcome.code;
}

/**
 * The oracle. grpc-js itself answers INTERNAL "Error deserializing request"
 * when bytes are not a message of the type; that is the library refusing
 * garbage before any handler runs, so it passes for random bytes only.
 */
function judge(outcome: CallOutcome, structured: boolean): { code: "crash" | "hang" | "wrong-answer"; message: string } | undefined {
  const text = `${grpc.status[outcome.code]} "${outcome.details}"`;
  switch (outcome.code) {
    case grpc.status.OK:
    case grpc.status.CANCELLED:
      return undefined;
    case grpc.status.DEADLINE_EXCEEDED:
      return { code: "hang", message: `no answer within ${grpcCallDeadlineMs} ms` };
    case grpc.status.UNKNOWN:
      return { code: "crash", message: `${text}: a handler threw` };
    case grpc.status.INTERNAL:
      if (!structured && outcome.details.startsWith("Error deserializing request")) return undefined;
      return { code: "crash", message: `${text}: INTERNAL is for broken invariants` };
    default:
      return outcome.details.trim() === "" ? { code: "wrong-answer", message: `${text} without a message` } : undefined;
  }
}

/** One call of any kind, bounded by the deadline; streams are watched briefly, then cancelled. */
function callOnce(client: grpc.Client, method: FuzzMethod, body: Buffer, messageCount: number): Promise<CallOutcome> {
  const passThrough = (value: Buffer): Buffer => value;
  const deadline = Date.now() + grpcCallDeadlineMs;
  return new Promise((resolve) => {
    const settle = (error: grpc.ServiceError | null): void => {
      resolve(error === null ? { code: grpc.status.OK, details: "" } : { code: error.code, details: error.details });
    };
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(method.path, passThrough, passThrough, body, { deadline }, settle);
      return;
    }
    if (method.requestStream && !method.responseStream) {
      const call = client.makeClientStreamRequest(method.path, passThrough, passThrough, { deadline }, settle);
      for (let index = 0; index < messageCount; index += 1) call.write(body);
      call.end();
      return;
    }
    if (!method.requestStream) {
      watchStream(client.makeServerStreamRequest(method.path, passThrough, passThrough, body, { deadline }), resolve);
      return;
    }
    const call = client.makeBidiStreamRequest(method.path, passThrough, passThrough, { deadline });
    watchStream(call, resolve);
    for (let index = 0; index < messageCount; index += 1) call.write(body);
    call.end();
  });
}

function watchStream(call: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>, resolve: (outcome: CallOutcome) => void): void {
  const timer = setTimeout(() => {
    call.cancel();
  }, streamWatchMs);
  call.on("data", () => undefined);
  // 'error' carries the same status as 'status'; the listener keeps it from being thrown.
  call.on("error", () => undefined);
  call.on("status", (status: grpc.StatusObject) => {
    clearTimeout(timer);
    resolve({ code: status.code, details: status.details });
  });
}
