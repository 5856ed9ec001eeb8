/**
 * A gRPC call relayed between two threads of one process (issue 20 item 3).
 *
 * The control thread runs a process's gRPC servers: TLS, HTTP/2, the
 * connection gate, health and reflection. The handlers stay where the state
 * they change lives (an apparatus's faces and holds, a device's store and
 * mirrors: the host I/O thread), so each call crosses a MessagePort as
 * bytes: `RelaySender` on the control thread turns a call into messages,
 * `RelayEndpoint` on the other thread decodes them with the service's own
 * deserializers and runs the service's own handlers (authorization
 * wrappers included) on a call object that carries what those handlers
 * read: the request, the caller's certificate subject, the deadline, the
 * stream's events. The transport's cost then lands on the control thread;
 * the handlers' own work cannot move, since a hold must take effect
 * between two host requests on the thread that serves them.
 *
 * Every message names its call by a number the sender chose; a call ends
 * with exactly one status (OK or not), after which both sides forget it.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { MessagePort } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";

/** A method as the control thread registers it: the path and the kind of call. */
export interface RelayedMethod {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** The caller as the control thread's server saw it. */
export interface RelayedCaller {
  readonly peer: string;
  /** The verified client certificate's subject (mutual TLS), or undefined on a plain server. */
  readonly subject: Readonly<Record<string, string | string[] | undefined>> | undefined;
  /** Milliseconds since the epoch, or Infinity for a call without a deadline. */
  readonly deadlineMs: number;
}

/** From the control thread's server to the handlers. */
export type RelayRequest =
  | { readonly kind: "open"; readonly call: number; readonly path: string; readonly caller: RelayedCaller; readonly message: Uint8Array | undefined }
  | { readonly kind: "data"; readonly call: number; readonly message: Uint8Array }
  | { readonly kind: "end"; readonly call: number }
  | { readonly kind: "cancel"; readonly call: number };

/** From the handlers back: a response message, then one status (code 0 ends a stream; a unary call's message ends it). */
export type RelayReply =
  | { readonly kind: "message"; readonly call: number; readonly message: Uint8Array }
  | { readonly kind: "status"; readonly call: number; readonly code: grpc.status; readonly details: string; readonly trailers: readonly (readonly [string, string])[] };

/** Posts a message with its bytes moved, not copied: each byte array here is a fresh copy of its own. */
function post(port: MessagePort, message: RelayRequest | RelayReply): void {
  const bytes = "message" in message ? message.message?.buffer : undefined;
  port.postMessage(message, bytes instanceof ArrayBuffer ? [bytes] : []);
}

/** An exact copy whose buffer can be moved: a message grpc-js hands over may be a view into a larger buffer. */
function ownBytes(view: Uint8Array): Uint8Array {
  return new Uint8Array(view);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The message for request bytes that are not a message of the method's type. */
function undecodable(path: string, error: unknown): string {
  return `${path}: the request is not a message of its type (${error instanceof Error ? error.message : String(error)})`;
}

function passBytes(bytes: Buffer): Buffer {
  return bytes;
}

/** The grpc-js handler type of a method, for Server.register. */
export function handlerTypeOf(method: RelayedMethod): "unary" | "serverStream" | "clientStream" | "bidi" {
  if (method.requestStream) return method.responseStream ? "bidi" : "clientStream";
  return method.responseStream ? "serverStream" : "unary";
}

/** What the control side keeps of a call in progress: how its answers reach the client. */
interface SentCall {
  /** A unary or client-streaming call: its one response message ends it. */
  readonly endsOnMessage: boolean;
  message(bytes: Buffer): void;
  status(status: grpc.StatusObject): void;
}

type ServerCall = grpc.ServerUnaryCall<Buffer, Buffer> | grpc.ServerReadableStream<Buffer, Buffer> | grpc.ServerWritableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>;

function callerOf(call: ServerCall): RelayedCaller {
  const subject = call.getAuthContext().sslPeerCertificate?.subject;
  const deadline = call.getDeadline();
  return {
    peer: call.getPeer(),
    // A plain copy: the certificate's subject object does not cross threads as it is.
    subject: subject === undefined ? undefined : { ...subject },
    deadlineMs: deadline instanceof Date ? deadline.getTime() : deadline,
  };
}

/**
 * The control thread's side: grpc-js handlers that pass every call over
 * `port` as bytes, registered (registerOn) so that grpc-js neither decodes
 * nor encodes.
 */
export class RelaySender {
  private nextCall = 1;
  private readonly calls = new Map<number, SentCall>();

  constructor(private readonly port: MessagePort) {
    port.on("message", (reply: RelayReply) => {
      this.answer(reply);
    });
    // The other side went away: every call in progress ends UNAVAILABLE, as for a server that stopped.
    port.on("close", () => {
      for (const call of this.calls.values()) call.status({ code: grpc.status.UNAVAILABLE, details: "the server's handlers stopped", metadata: new grpc.Metadata() });
      this.calls.clear();
    });
  }

  /** Registers a relaying handler for each of `methods` on `server`. */
  registerOn(server: grpc.Server, methods: readonly RelayedMethod[]): void {
    for (const method of methods) {
      const registered = server.register(method.path, this.handler(method), passBytes, passBytes, handlerTypeOf(method));
      if (!registered) throw new Error(`${method.path} is served twice`);
    }
  }

  private handler(method: RelayedMethod): grpc.UntypedHandleCall {
    const { path } = method;
    switch (handlerTypeOf(method)) {
      case "unary":
        return (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          this.open(path, call, call.request, callbackAnswers(callback));
        };
      case "serverStream":
        return (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          this.open(path, call, call.request, streamAnswers(call));
        };
      case "clientStream":
        return (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          const id = this.open(path, call, undefined, callbackAnswers(callback));
          this.forwardReads(id, call);
        };
      case "bidi":
        return (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          const id = this.open(path, call, undefined, streamAnswers(call));
          this.forwardReads(id, call);
        };
    }
  }

  private open(path: string, call: ServerCall, request: Buffer | undefined, answers: SentCall): number {
    const id = this.nextCall;
    this.nextCall += 1;
    this.calls.set(id, answers);
    const events: EventEmitter = call;
    events.on("cancelled", () => {
      if (this.calls.delete(id)) post(this.port, { kind: "cancel", call: id });
    });
    post(this.port, { kind: "open", call: id, path, caller: callerOf(call), message: request === undefined ? undefined : ownBytes(request) });
    return id;
  }

  private forwardReads(id: number, call: grpc.ServerReadableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>): void {
    call.on("data", (bytes: Buffer) => {
      if (this.calls.has(id)) post(this.port, { kind: "data", call: id, message: ownBytes(bytes) });
    });
    call.on("end", () => {
      if (this.calls.has(id)) post(this.port, { kind: "end", call: id });
    });
    // A client gone mid-stream also says 'cancelled', which tells the handlers.
    call.on("error", () => undefined);
  }

  private answer(reply: RelayReply): void {
    const call = this.calls.get(reply.call);
    if (call === undefined) return; // cancelled meanwhile: the answer has nowhere to go
    if (reply.kind === "message") {
      // Forgotten now: grpc-js says 'cancelled' after every call it ends, which must not reach the handlers as a cancel.
      if (call.endsOnMessage) this.calls.delete(reply.call);
      call.message(asBuffer(reply.message));
      return;
    }
    this.calls.delete(reply.call);
    const metadata = new grpc.Metadata();
    for (const [key, value] of reply.trailers) metadata.add(key, value);
    call.status({ code: reply.code, details: reply.details, metadata });
  }
}

/** How a unary or client-streaming call's answer reaches its client: the callback, once. */
function callbackAnswers(callback: grpc.sendUnaryData<Buffer>): SentCall {
  return {
    endsOnMessage: true,
    message: (bytes) => {
      callback(null, bytes);
    },
    status: (status) => {
      callback(status);
    },
  };
}

/** How a streaming call's answers reach its client. */
function streamAnswers(call: grpc.ServerWritableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>): SentCall {
  return {
    endsOnMessage: false,
    message: (bytes) => {
      call.write(bytes);
    },
    status: (status) => {
      if (status.code === grpc.status.OK) call.end();
      else call.emit("error", status);
    },
  };
}

/** A status as it crosses: code, message and the string trailers (errorCodeMetadataKey's). */
interface RelayedStatus {
  readonly code: grpc.status;
  readonly details: string;
  readonly trailers: [string, string][];
}

function isStatusCode(value: unknown): value is grpc.status {
  return typeof value === "number" && grpc.status[value] !== undefined;
}

/** A handler's error or status, as the status sent back. */
function statusOf(error: unknown): RelayedStatus {
  const fields = typeof error === "object" && error !== null ? (error as { code?: unknown; details?: unknown; message?: unknown; metadata?: unknown }) : {};
  const code = isStatusCode(fields.code) ? fields.code : grpc.status.UNKNOWN;
  const details = typeof fields.details === "string" ? fields.details : typeof fields.message === "string" ? fields.message : String(error);
  const trailers: [string, string][] = [];
  if (fields.metadata instanceof grpc.Metadata) {
    for (const [key, value] of Object.entries(fields.metadata.getMap())) if (typeof value === "string") trailers.push([key, value]);
  }
  return { code, details, trailers };
}

/**
 * One relayed call as its handler sees it: the members of grpc-js's server
 * call objects that Switchyard's handlers and authorization wrappers read
 * (`request`, `getAuthContext`, `getPeer`, `getDeadline`, `cancelled`, and
 * for streams `write`, `end`, `destroyed`, `writable` and the 'data', 'end',
 * 'cancelled' and 'error' events). Emitting 'error' sends that status, as on
 * grpc-js's own streams.
 */
class RelayedCall extends EventEmitter {
  readonly metadata = new grpc.Metadata();
  cancelled = false;
  destroyed = false;
  writable = true;
  private finished = false;

  constructor(
    readonly request: unknown,
    private readonly caller: RelayedCaller,
    private readonly path: string,
    private readonly send: (reply: RelayReply) => void,
    private readonly id: number,
    private readonly serialize: (value: unknown) => Buffer,
  ) {
    super();
    this.on("error", (error: unknown) => {
      this.finish(statusOf(error));
    });
  }

  getAuthContext(): { readonly sslPeerCertificate?: { readonly subject: Readonly<Record<string, string | string[] | undefined>> } } {
    return this.caller.subject === undefined ? {} : { sslPeerCertificate: { subject: this.caller.subject } };
  }

  getPeer(): string {
    return this.caller.peer;
  }

  getDeadline(): number {
    return this.caller.deadlineMs;
  }

  getPath(): string {
    return this.path;
  }

  write(message: unknown): boolean {
    if (this.finished) return false;
    this.send({ kind: "message", call: this.id, message: ownBytes(this.serialize(message)) });
    return true;
  }

  end(): this {
    this.finish({ code: grpc.status.OK, details: "", trailers: [] });
    return this;
  }

  /** The unary callback: a response message ends the call, an error is its status. */
  answer(error: unknown, value: unknown): void {
    if (this.finished) return;
    if (error !== null && error !== undefined) {
      this.finish(statusOf(error));
      return;
    }
    this.finished = true;
    this.writable = false;
    this.send({ kind: "message", call: this.id, message: ownBytes(this.serialize(value)) });
  }

  /** The client cancelled, or the control thread went away. */
  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    this.cancelled = true;
    this.destroyed = true;
    this.writable = false;
    this.emit("cancelled");
  }

  private finish(status: RelayedStatus): void {
    if (this.finished) return;
    this.finished = true;
    this.writable = false;
    this.destroyed = true;
    this.send({ kind: "status", call: this.id, ...status });
  }
}

interface EndpointMethod {
  readonly definition: grpc.MethodDefinition<unknown, unknown>;
  readonly handler: grpc.UntypedHandleCall;
}

/**
 * The handlers' side: services added as to a grpc.Server, answering the
 * calls a RelaySender passes over the port it is attached to.
 */
export class RelayEndpoint {
  private readonly methodsByPath = new Map<string, EndpointMethod>();
  private readonly calls = new Map<number, RelayedCall>();
  private port: MessagePort | undefined;

  addService(service: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void {
    for (const [name, definition] of Object.entries(service)) {
      const handler = handlers[name];
      if (handler === undefined) throw new Error(`${definition.path} has no handler`);
      if (this.methodsByPath.has(definition.path)) throw new Error(`${definition.path} is added twice`);
      this.methodsByPath.set(definition.path, { definition, handler });
    }
  }

  /** The methods a RelaySender registers for this endpoint. */
  get methods(): RelayedMethod[] {
    return [...this.methodsByPath.values()].map(({ definition }) => ({ path: definition.path, requestStream: definition.requestStream, responseStream: definition.responseStream }));
  }

  /** Answers the calls that arrive on `port` until it closes. */
  attach(port: MessagePort): void {
    if (this.port !== undefined) throw new Error("a relay endpoint answers one port");
    this.port = port;
    port.on("message", (request: RelayRequest) => {
      this.receive(port, request);
    });
    port.on("close", () => {
      for (const call of this.calls.values()) call.cancel();
      this.calls.clear();
    });
  }

  /** Stops answering: calls in progress are cancelled, as when their clients go. */
  detach(): void {
    this.port?.close();
    this.port = undefined;
  }

  private receive(port: MessagePort, request: RelayRequest): void {
    if (request.kind === "open") {
      this.start(port, request);
      return;
    }
    const call = this.calls.get(request.call);
    if (call === undefined) return; // answered already
    switch (request.kind) {
      case "data":
        this.deliver(call, request.message);
        return;
      case "end":
        call.emit("end");
        return;
      case "cancel":
        this.calls.delete(request.call);
        call.cancel();
        return;
    }
  }

  /** A stream's next request message to its handler; bytes that are no message of the type end the call. */
  private deliver(call: RelayedCall, bytes: Uint8Array): void {
    const method = this.methodsByPath.get(call.getPath());
    assert.ok(method !== undefined, `${call.getPath()} has a call but no method`);
    let message: unknown;
    try {
      message = method.definition.requestDeserialize(asBuffer(bytes));
    } catch (error) {
      call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: undecodable(call.getPath(), error) });
      return;
    }
    call.emit("data", message);
  }

  private start(port: MessagePort, request: Extract<RelayRequest, { kind: "open" }>): void {
    const method = this.methodsByPath.get(request.path);
    // A unary or client-streaming call ends with its one response message; any call ends with a status.
    const endsOnMessage = method !== undefined && !method.definition.responseStream;
    const send = (reply: RelayReply): void => {
      if (reply.kind === "status" || endsOnMessage) this.calls.delete(request.call);
      post(port, reply);
    };
    if (method === undefined) {
      send({ kind: "status", call: request.call, code: grpc.status.UNIMPLEMENTED, details: `${request.path} is not served here`, trailers: [] });
      return;
    }
    const { definition, handler } = method;
    let decoded: unknown;
    try {
      decoded = request.message === undefined ? undefined : definition.requestDeserialize(asBuffer(request.message));
    } catch (error) {
      send({ kind: "status", call: request.call, code: grpc.status.INVALID_ARGUMENT, details: undecodable(request.path, error), trailers: [] });
      return;
    }
    const call = new RelayedCall(decoded, request.caller, request.path, send, request.call, (value) => definition.responseSerialize(value));
    this.calls.set(request.call, call);
    invoke(definition, handler, call);
  }
}

/**
 * Runs a grpc-js handler on a relayed call. The handler is typed for
 * grpc-js's own call objects; a RelayedCall has the members our handlers
 * read (see RelayedCall), which is what makes this cast sound for them.
 */
function invoke(definition: grpc.MethodDefinition<unknown, unknown>, handler: grpc.UntypedHandleCall, call: RelayedCall): void {
  if (!definition.responseStream) {
    const unary = handler as unknown as (call: RelayedCall, callback: (error: unknown, value?: unknown) => void) => void;
    unary(call, (error, value) => {
      call.answer(error, value);
    });
    return;
  }
  const streaming = handler as unknown as (call: RelayedCall) => void;
  streaming(call);
}
