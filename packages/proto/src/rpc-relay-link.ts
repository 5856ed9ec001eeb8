/**
 * A caller's end of a relay (rpc-relay.ts) inside one process: a grpc-js
 * client whose calls cross a MessagePort to the RelayEndpoint of a server
 * on another thread, instead of TLS and HTTP/2 over loopback to that
 * server's control thread and the port from there.
 *
 * The embedded appliance's controller thread reaches the apparatuses and
 * the device on the host I/O thread so (issue 20): each change phase was
 * two thread hops plus TLS and HTTP/2 at both ends, measured at 1.0-2.6 ms
 * one way under host load, and a moved extent's writes wait through four
 * of them. The messages and handlers are the gRPC ones, authorization
 * wrappers included: the link presents the identity the process gave it,
 * the certificate subject its controller would present over TLS. Nothing
 * outside the process can reach a link: it is a MessagePort, handed over
 * at the thread's start.
 *
 * The client is grpc-js's own (the generated service clients), with an
 * interceptor (relayInterceptor) that never passes a call to the channel:
 * deadlines, cancellation and statuses behave as on the network, and a
 * link that closes fails its calls UNAVAILABLE, as a server gone.
 */
import type { MessagePort } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import type { RelayedCaller, RelayReply, RelayRequest } from "./rpc-relay.js";

/** What grpc-js hands a relayed call and expects of it: its InterceptingCall's inner call. */
type InnerCall = NonNullable<ConstructorParameters<typeof grpc.InterceptingCall>[0]>;
type Listener = Partial<grpc.InterceptingListener>;
/** How a written message says it went out (grpc-js's MessageContext, not exported). */
type MessageContext = Parameters<InnerCall["sendMessageWithContext"]>[0];
type Subject = RelayedCaller["subject"];

/** One call in progress on a link: where its answers go. */
interface LinkedCall {
  reply(reply: RelayReply): void;
  /** The link closed: the call ends UNAVAILABLE. */
  lost(): void;
}

/** The calls of one MessagePort to a RelayEndpoint, numbered as the endpoint expects. */
export class RelayLink {
  private nextCall = 1;
  private readonly calls = new Map<number, LinkedCall>();
  private closed = false;

  /** `subject`: the certificate subject the endpoint's authorization sees; undefined on a plain (insecure) server. */
  constructor(
    private readonly port: MessagePort,
    readonly subject: Subject,
  ) {
    port.on("message", (reply: RelayReply) => {
      this.calls.get(reply.call)?.reply(reply);
    });
    port.on("close", () => {
      this.closed = true;
      for (const call of this.calls.values()) call.lost();
      this.calls.clear();
    });
    // A link keeps nothing alive: the calls awaiting answers hold their own timers.
    port.unref();
  }

  /** An interceptor that sends every call of a client over this link. */
  interceptor(): grpc.Interceptor {
    return (options) => new grpc.InterceptingCall(new LinkCall(this, options));
  }

  /** Registers a call; undefined if the link is closed. */
  open(call: LinkedCall): number | undefined {
    if (this.closed) return undefined;
    const id = this.nextCall;
    this.nextCall += 1;
    this.calls.set(id, call);
    return id;
  }

  forget(id: number): void {
    this.calls.delete(id);
  }

  send(request: RelayRequest): void {
    const bytes = "message" in request ? request.message?.buffer : undefined;
    this.port.postMessage(request, bytes instanceof ArrayBuffer ? [bytes] : []);
  }

  close(): void {
    this.port.close();
  }
}

function deadlineMsOf(deadline: grpc.Deadline | undefined): number {
  if (deadline === undefined) return Infinity;
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

/** A request message as bytes whose buffer can be moved to the other thread. */
function ownBytes(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * One call over a link, as grpc-js's bottom call would be: it (de)serializes
 * with the method's own functions. A call without a request stream opens
 * with its one message; a stream opens at start and sends each message.
 */
class LinkCall implements InnerCall {
  private readonly method: grpc.InterceptorOptions["method_definition"];
  private readonly deadlineMs: number;
  private listener: Listener = {};
  private id: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private sawMetadata = false;
  /** Response messages not yet asked for (a response stream is read on demand). */
  private readonly unread: unknown[] = [];
  private readsWanted = 0;
  private pendingStatus: grpc.StatusObject | undefined;

  constructor(
    private readonly link: RelayLink,
    options: grpc.InterceptorOptions,
  ) {
    this.method = options.method_definition;
    this.deadlineMs = deadlineMsOf(options.deadline);
  }

  start(_metadata: grpc.Metadata, listener?: Listener): void {
    this.listener = listener ?? {};
    this.id = this.link.open({ reply: (reply) => { this.reply(reply); }, lost: () => { this.finish(grpc.status.UNAVAILABLE, "the server's handlers stopped"); } });
    if (this.id === undefined) {
      this.finish(grpc.status.UNAVAILABLE, "the link to the server's handlers is closed");
      return;
    }
    if (Number.isFinite(this.deadlineMs)) {
      this.timer = setTimeout(() => { this.cancelWithStatus(grpc.status.DEADLINE_EXCEEDED, "Deadline exceeded"); }, Math.max(0, this.deadlineMs - Date.now()));
    }
    if (this.method.requestStream) this.open(undefined);
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    if (this.ended || this.id === undefined) return;
    let bytes: Uint8Array;
    try {
      bytes = ownBytes(this.method.requestSerialize(message));
    } catch (error) {
      this.cancelWithStatus(grpc.status.INTERNAL, `Request message serialization failure: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (this.method.requestStream) this.link.send({ kind: "data", call: this.id, message: bytes });
    else this.open(bytes);
    context.callback?.();
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  halfClose(): void {
    if (this.ended || this.id === undefined || !this.method.requestStream) return;
    this.link.send({ kind: "end", call: this.id });
  }

  startRead(): void {
    this.readsWanted += 1;
    this.deliver();
  }

  cancelWithStatus(status: grpc.status, details: string): void {
    if (this.ended) return;
    if (this.id !== undefined) this.link.send({ kind: "cancel", call: this.id });
    this.finish(status, details);
  }

  getPeer(): string {
    return "relay";
  }

  getAuthContext(): null {
    return null;
  }

  private open(message: Uint8Array | undefined): void {
    if (this.id === undefined) return;
    const caller: RelayedCaller = { peer: "relay", subject: this.link.subject, deadlineMs: this.deadlineMs };
    this.link.send({ kind: "open", call: this.id, path: this.method.path, caller, message });
  }

  private reply(reply: RelayReply): void {
    if (this.ended) return;
    if (reply.kind === "status") {
      this.finish(reply.code, reply.details, reply.trailers);
      return;
    }
    let message: unknown;
    try {
      message = this.method.responseDeserialize(Buffer.from(reply.message.buffer, reply.message.byteOffset, reply.message.byteLength));
    } catch (error) {
      this.cancelWithStatus(grpc.status.INTERNAL, `Response message parsing error: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    this.unread.push(message);
    // A unary response is the call's end (the endpoint sends no status after it); grpc-js reads it unasked.
    if (!this.method.responseStream) {
      this.readsWanted += 1;
      this.finish(grpc.status.OK, "");
      return;
    }
    this.deliver();
  }

  /** Hands over the messages asked for, then the status once nothing is left unread. */
  private deliver(): void {
    this.metadataOnce();
    while (this.readsWanted > 0 && this.unread.length > 0) {
      this.readsWanted -= 1;
      this.listener.onReceiveMessage?.(this.unread.shift());
    }
    if (this.pendingStatus !== undefined && this.unread.length === 0) {
      const status = this.pendingStatus;
      this.pendingStatus = undefined;
      this.listener.onReceiveStatus?.(status);
    }
  }

  private metadataOnce(): void {
    if (this.sawMetadata) return;
    this.sawMetadata = true;
    this.listener.onReceiveMetadata?.(new grpc.Metadata());
  }

  private finish(code: grpc.status, details: string, trailers: readonly (readonly [string, string])[] = []): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    if (this.id !== undefined) this.link.forget(this.id);
    const metadata = new grpc.Metadata();
    for (const [key, value] of trailers) metadata.add(key, value);
    this.pendingStatus = { code, details, metadata };
    // A failed call's status goes at once; messages it had not handed over are dropped.
    if (code !== grpc.status.OK) this.unread.length = 0;
    this.deliver();
  }
}
