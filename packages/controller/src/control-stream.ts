/**
 * The controller's end of an apparatus's Control stream: Hold, Apply,
 * Release and Abort as messages on one long-lived bidirectional gRPC stream
 * instead of a unary call each. A unary call opens an HTTP/2 stream with its
 * own headers, metadata, deadline and trailers at both ends; measured under
 * back-to-back moves, those calls were most of the controller's CPU, which
 * host I/O on the same two cores waits for.
 *
 * The protocol is the unary one, message for message: each carries its
 * change id and epoch, the apparatus handles it as the unary call, and each
 * waits at most its timeout (the unary call's deadline). A broken stream
 * fails the messages in flight as UNAVAILABLE, as an unreachable apparatus
 * fails a unary call, and the next message opens a new stream. An apparatus
 * that does not serve Control (another implementation) is sent unary calls.
 */
import * as grpc from "@grpc/grpc-js";
import {
  callUnary,
  deadlineAfter,
  isRpcError,
  type AbortReport__Output,
  type AbortRequest,
  type ApparatusClient,
  type ApplyReport__Output,
  type ApplyRequest,
  type ControlReply__Output,
  type ControlRequest,
  type HoldReport__Output,
  type HoldRequest,
  type ReleaseReport__Output,
  type ReleaseRequest,
} from "@switchyard/proto";

/**
 * Messages awaiting an answer on one stream. A change sends one message per
 * phase to each apparatus, and changes run one at a time, so more than a
 * handful means answers are not coming: refuse instead of queueing without
 * bound.
 */
export const controlMessagesInFlightMax = 64;

/** A failed control message, shaped as grpc-js's ServiceError (code, details), so callers treat both alike. */
export class ControlCallError extends Error {
  /** A gRPC status code (grpc.status); a number, as the apparatus sends it. */
  readonly code: number;
  readonly details: string;

  constructor(code: number, details: string) {
    super(`${String(grpc.status[code] ?? code)}: ${details}`);
    this.name = "ControlCallError";
    this.code = code;
    this.details = details;
  }
}

interface Waiting {
  readonly resolve: (reply: ControlReply__Output) => void;
  readonly reject: (error: ControlCallError) => void;
  readonly timer: NodeJS.Timeout;
}

type Kind = "hold" | "apply" | "release" | "abort";

export class ControlStream {
  private readonly client: ApparatusClient;
  private call: grpc.ClientDuplexStream<ControlRequest, ControlReply__Output> | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextSequence = 1;
  /** Set when the apparatus answered UNIMPLEMENTED: it gets unary calls from then on. */
  private unaryOnly = false;

  constructor(client: ApparatusClient) {
    this.client = client;
  }

  async hold(request: HoldRequest, timeoutMs: number): Promise<HoldReport__Output> {
    if (this.unaryOnly) return callUnary((done) => this.client.Hold(request, { deadline: deadlineAfter(timeoutMs) }, done));
    return answerOf(await this.send({ hold: request }, "hold", timeoutMs), "hold", () => this.hold(request, timeoutMs));
  }

  async apply(request: ApplyRequest, timeoutMs: number): Promise<ApplyReport__Output> {
    if (this.unaryOnly) return callUnary((done) => this.client.Apply(request, { deadline: deadlineAfter(timeoutMs) }, done));
    return answerOf(await this.send({ apply: request }, "apply", timeoutMs), "apply", () => this.apply(request, timeoutMs));
  }

  async release(request: ReleaseRequest, timeoutMs: number): Promise<ReleaseReport__Output> {
    if (this.unaryOnly) return callUnary((done) => this.client.Release(request, { deadline: deadlineAfter(timeoutMs) }, done));
    return answerOf(await this.send({ release: request }, "release", timeoutMs), "release", () => this.release(request, timeoutMs));
  }

  async abort(request: AbortRequest, timeoutMs: number): Promise<AbortReport__Output> {
    if (this.unaryOnly) return callUnary((done) => this.client.Abort(request, { deadline: deadlineAfter(timeoutMs) }, done));
    return answerOf(await this.send({ abort: request }, "abort", timeoutMs), "abort", () => this.abort(request, timeoutMs));
  }

  /** Ends the stream; messages in flight fail as CANCELLED. */
  close(): void {
    this.call?.cancel();
    this.failAll(new ControlCallError(grpc.status.CANCELLED, "the controller closed the control stream"));
  }

  /** Sends one message and waits for its answer, or fails it after `timeoutMs`. */
  private send(message: Omit<ControlRequest, "sequence">, kind: Kind, timeoutMs: number): Promise<ControlReply__Output | "unimplemented"> {
    if (this.waiting.size >= controlMessagesInFlightMax) {
      return Promise.reject(new ControlCallError(grpc.status.RESOURCE_EXHAUSTED, `${this.waiting.size} control messages already await answers (limit ${controlMessagesInFlightMax})`));
    }
    const sequence = this.nextSequence;
    this.nextSequence += 1;
    const call = this.open();
    return new Promise<ControlReply__Output | "unimplemented">((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(sequence);
        reject(new ControlCallError(grpc.status.DEADLINE_EXCEEDED, `no answer to ${kind} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(sequence, { resolve, reject, timer });
      call.write({ ...message, sequence });
    }).catch((error: unknown) => {
      // The stream was refused as a method: nothing reached the apparatus, so the message goes again as a unary call.
      if (isRpcError(error, grpc.status.UNIMPLEMENTED)) return "unimplemented" as const;
      throw error;
    });
  }

  private open(): grpc.ClientDuplexStream<ControlRequest, ControlReply__Output> {
    if (this.call !== undefined) return this.call;
    const call = this.client.Control();
    call.on("data", (reply: ControlReply__Output) => {
      const waiting = this.waiting.get(reply.sequence);
      // A late answer: its message timed out and the change has moved on.
      if (waiting === undefined) return;
      this.waiting.delete(reply.sequence);
      clearTimeout(waiting.timer);
      waiting.resolve(reply);
    });
    call.on("error", (error: grpc.ServiceError) => {
      if (error.code === grpc.status.UNIMPLEMENTED) this.unaryOnly = true;
      this.dropped(call, new ControlCallError(error.code, error.details));
    });
    call.on("end", () => {
      this.dropped(call, new ControlCallError(grpc.status.UNAVAILABLE, "the apparatus ended the control stream"));
    });
    this.call = call;
    return call;
  }

  /** The stream is gone: its messages in flight fail, and the next message opens a new one. */
  private dropped(call: grpc.ClientDuplexStream<ControlRequest, ControlReply__Output>, error: ControlCallError): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.failAll(error);
  }

  private failAll(error: ControlCallError): void {
    for (const waiting of this.waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.waiting.clear();
  }
}

/** The report a reply carries for `kind`, or the reply's failure thrown; `unary` again when the stream was unimplemented. */
function answerOf<Kind extends "hold" | "apply" | "release" | "abort">(
  reply: ControlReply__Output | "unimplemented",
  kind: Kind,
  unary: () => Promise<NonNullable<ControlReply__Output[Kind]>>,
): Promise<NonNullable<ControlReply__Output[Kind]>> {
  if (reply === "unimplemented") return unary();
  if (reply.reply === "failure" && reply.failure != null) {
    return Promise.reject(new ControlCallError(reply.failure.code, reply.failure.details));
  }
  const report = reply[kind];
  if (reply.reply !== kind || report == null) {
    return Promise.reject(new ControlCallError(grpc.status.INTERNAL, `the apparatus answered ${kind} with ${reply.reply ?? "nothing"}`));
  }
  return Promise.resolve(report);
}
