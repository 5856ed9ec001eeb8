/**
 * NbdServer: a fixed newstyle NBD server over TCP serving the exports of an
 * NbdExportProvider. Each connection runs the handshake
 * (server-handshake.ts), then the transmission phase
 * (server-transmission.ts), inside TLS when the client asks for it with
 * NBD_OPT_STARTTLS (server-tls.ts). A misbehaving client loses its own
 * connection only; nothing a peer sends can throw out of a socket callback.
 */
import assert from "node:assert/strict";
import net from "node:net";
import type tls from "node:tls";
import type { NbdExportProvider } from "./export.js";
import { resolveServerLimits, type NbdServerLimits } from "./limits.js";
import { ServerHandshake, type HandshakeOutcome } from "./server-handshake.js";
import { ServerTransmission, serverBuffers, type ServerBuffers } from "./server-transmission.js";
import { requestErrno, type NbdRequestCheck } from "./request-validation.js";
import { receiveDirectly, type ReceiveTarget } from "./direct-receive.js";
import { TlsUpgrader, type NbdServerTls } from "./server-tls.js";
import { NBD_REQUEST_BYTES } from "./constants.js";

/** Default NBD port (IANA-reserved for newstyle negotiation). */
export const nbdPortDefault = 10809;

export interface NbdServerOptions {
  readonly provider: NbdExportProvider;
  /** Address to listen on; loopback unless told otherwise. */
  readonly host?: string;
  /** 0 picks an ephemeral port; default 10809. */
  readonly port?: number;
  readonly limits?: Partial<NbdServerLimits>;
  /**
   * NBD_OPT_STARTTLS: "off" (default) refuses it, "on" upgrades a client
   * that asks, "require" serves nothing but STARTTLS and ABORT before TLS.
   * Clients must present a certificate signed by `ca`.
   */
  readonly tls?: NbdServerTls;
  /**
   * Unexpected errors: an export operation failing with something other
   * than an NbdError (answered EIO), or a provider throwing.
   */
  readonly onError?: (error: unknown) => void;
  /** Why a client was disconnected for breaking the protocol (debug logging). */
  readonly onDisconnect?: (reason: string) => void;
  /** Whether each request may run (request-validation.ts's requestErrno, the spec's rules, if absent). */
  readonly requestCheck?: NbdRequestCheck;
}

export interface NbdServerAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Bytes one socket read takes when no WRITE payload wants them directly:
 * a queue depth of 16 random 4 KiB writes arrives in one read.
 */
const receiveChunkBytes = 256 * 1024;

/** What every connection of one server shares. */
interface ConnectionContext {
  readonly provider: NbdExportProvider;
  readonly limits: NbdServerLimits;
  readonly tlsMode: NbdServerTls["mode"];
  readonly tls: TlsUpgrader | undefined;
  readonly onError: (error: unknown) => void;
  readonly onDisconnect: (reason: string) => void;
  readonly requestCheck: NbdRequestCheck;
  /** Payload and reply buffers, shared by all the server's connections. */
  readonly buffers: ServerBuffers;
}

/**
 * One accepted socket, in the handshake or the transmission phase. A plain
 * connection reads through direct-receive.ts; after STARTTLS the TLS socket
 * over it is read with ordinary 'data' events (the kernel's bytes are
 * ciphertext, so nothing can land in a WRITE payload directly).
 */
class ServerConnection implements ReceiveTarget {
  private handshake: ServerHandshake | undefined;
  private transmission: ServerTransmission | undefined;
  private readonly handshakeTimer: NodeJS.Timeout;
  private disconnectTimer: NodeJS.Timeout | undefined;
  /** Where reads land unless a WRITE payload takes them; reused, so whoever keeps bytes copies them. */
  private readonly staging = Buffer.allocUnsafe(receiveChunkBytes);
  /** The staging buffer's first request header's worth: one header alone (ServerTransmission.wantsHeaderAlone). */
  private readonly headerStaging = this.staging.subarray(0, NBD_REQUEST_BYTES);
  /** The TCP connection, read directly until a TLS upgrade takes it over. */
  private readonly plain: net.Socket;
  /** What the protocol reads and writes: `plain`, or the TLS socket over it. */
  private socket: net.Socket;
  private readonly limits: NbdServerLimits;
  private readonly onError: (error: unknown) => void;
  private readonly onDisconnect: (reason: string) => void;
  readonly closed: Promise<void>;

  constructor(
    accepted: net.Socket,
    private readonly context: ConnectionContext,
  ) {
    this.limits = context.limits;
    this.onError = context.onError;
    this.onDisconnect = context.onDisconnect;
    // allowHalfOpen: a client may shut down its sending side right after
    // NBD_CMD_DISC; the replies to its earlier requests must still go out.
    const socket = receiveDirectly(accepted, this, true);
    this.plain = socket;
    this.socket = socket;
    this.handshake = new ServerHandshake(socket, context.provider, context.limits, context.tlsMode, {
      onTransmission: (outcome) => {
        this.startTransmission(outcome);
      },
      onDisconnect: (reason) => {
        this.onDisconnect(reason);
      },
      onError: context.onError,
      onStartTls: () => {
        this.startTls();
      },
    });
    // The TLS handshake happens inside the NBD handshake, so this bounds both.
    this.handshakeTimer = setTimeout(() => {
      this.onDisconnect(`handshake not finished within ${context.limits.handshakeTimeoutMs} ms`);
      this.socket.destroy();
      socket.destroy();
    }, context.limits.handshakeTimeoutMs);
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.onClose();
        resolve();
      });
    });
    socket.on("end", () => {
      this.onEnd();
    });
    socket.on("drain", () => {
      this.transmission?.onDrain();
    });
    // Resets and broken pipes are a peer leaving; 'close' follows.
    socket.on("error", () => undefined);
    this.handshake.start();
  }

  get inTransmission(): boolean {
    return this.transmission !== undefined;
  }

  /** Server close: a handshake is cut; transmission finishes in-flight requests. */
  shutdown(): void {
    if (this.transmission === undefined) {
      this.socket.destroy();
      return;
    }
    this.transmission.stop();
    this.armDisconnectTimer();
  }

  nextBuffer(): Buffer {
    const transmission = this.transmission;
    if (transmission === undefined) return this.staging;
    return transmission.payloadReceiveBuffer() ?? (transmission.wantsHeaderAlone() ? this.headerStaging : this.staging);
  }

  received(bytes: number, into: Buffer): void {
    if (into !== this.staging && into !== this.headerStaging) {
      this.transmission?.onPayloadReceived(bytes);
      return;
    }
    const chunk = into.subarray(0, bytes);
    if (this.transmission !== undefined) this.transmission.onData(chunk);
    // The handshake keeps partial messages across reads: it gets its own copy.
    else this.handshake?.onData(Buffer.from(chunk));
  }

  /** After the ACK of NBD_OPT_STARTTLS: the TLS handshake, then haggling resumes inside it. */
  private startTls(): void {
    const upgrader = this.context.tls;
    assert.ok(upgrader !== undefined, "STARTTLS acknowledged without TLS material");
    // A peer that leaves in the middle of the TLS handshake must close the
    // connection at once (not hold a handshake slot until the timeout), so
    // the TLS socket made over `plain` starts without half-open.
    this.plain.allowHalfOpen = false;
    upgrader.upgrade(this.plain, (secured) => {
      this.onSecured(secured);
    });
  }

  private onSecured(secured: tls.TLSSocket): void {
    if (this.handshake === undefined || this.plain.destroyed) {
      secured.destroy();
      return;
    }
    this.socket = secured;
    // As for a plain connection: replies still go out after the client's half-close (DISC, then shutdown).
    secured.allowHalfOpen = true;
    secured.on("data", (chunk: Buffer) => {
      this.receivedStream(chunk);
    });
    secured.on("end", () => {
      this.onEnd();
    });
    secured.on("drain", () => {
      this.transmission?.onDrain();
    });
    secured.on("error", () => undefined);
    // The TCP connection goes with it; 'close' of `plain` settles `closed`.
    secured.on("close", () => {
      this.plain.destroy();
    });
    // tls.Server verified the certificate; its subject says who the client is (export.ts NbdPeer).
    this.handshake.resumeInTls(secured, { tls: true, certificateSubject: { ...secured.getPeerCertificate().subject } });
  }

  /** A chunk read from the TLS socket: a fresh buffer per 'data' event. */
  private receivedStream(chunk: Buffer): void {
    if (this.transmission !== undefined) this.transmission.onData(chunk);
    else this.handshake?.onData(chunk);
  }

  private onEnd(): void {
    if (this.transmission === undefined) {
      this.socket.destroy();
      return;
    }
    this.transmission.onEnd();
    this.armDisconnectTimer();
  }

  private startTransmission(outcome: HandshakeOutcome): void {
    clearTimeout(this.handshakeTimer);
    this.handshake = undefined;
    const transmission = new ServerTransmission(this.socket, outcome.nbdExport, outcome.structuredReplies, outcome.baseAllocationContextId, this.limits, {
      onError: this.onError,
      onDisconnect: this.onDisconnect,
      requestErrno: this.context.requestCheck,
    }, this.context.buffers);
    this.transmission = transmission;
    if (this.socket.destroyed) {
      transmission.onClose();
      return;
    }
    if (outcome.leftover.length > 0) transmission.onData(outcome.leftover);
  }

  /** After DISC, end of input or shutdown: a bounded wait, then destroy. */
  private armDisconnectTimer(): void {
    if (this.disconnectTimer !== undefined) return;
    this.disconnectTimer = setTimeout(() => {
      this.socket.destroy();
    }, this.limits.disconnectTimeoutMs);
  }

  private onClose(): void {
    clearTimeout(this.handshakeTimer);
    if (this.disconnectTimer !== undefined) clearTimeout(this.disconnectTimer);
    this.transmission?.onClose();
  }
}

export class NbdServer {
  private readonly host: string;
  private readonly port: number;
  private readonly limits: NbdServerLimits;
  private readonly context: ConnectionContext;
  private readonly connections = new Set<ServerConnection>();
  private readonly server: net.Server;
  private listening = false;

  constructor(options: NbdServerOptions) {
    this.host = options.host ?? "127.0.0.1";
    this.port = options.port ?? nbdPortDefault;
    assert.ok(Number.isInteger(this.port) && this.port >= 0 && this.port <= 65535, `invalid port ${this.port}`);
    this.limits = resolveServerLimits(options.limits);
    const onDisconnect = options.onDisconnect ?? (() => undefined);
    const tlsMode = options.tls?.mode ?? "off";
    this.context = {
      provider: options.provider,
      limits: this.limits,
      tlsMode,
      tls: options.tls === undefined || tlsMode === "off" ? undefined : new TlsUpgrader(options.tls, this.limits.handshakeTimeoutMs, onDisconnect),
      onError: options.onError ?? (() => undefined),
      onDisconnect,
      requestCheck: options.requestCheck ?? requestErrno,
      buffers: serverBuffers(),
    };
    // pauseOnConnect: each connection reads into buffers of its own choosing
    // (direct-receive.ts), so nothing may be read before it takes the socket.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (socket) => {
      this.accept(socket);
    });
    this.server.on("error", (error) => {
      if (this.listening) this.context.onError(error);
    });
  }

  /** Open connections, in either phase. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Connections in the transmission phase. */
  get transmissionCount(): number {
    let count = 0;
    for (const connection of this.connections) if (connection.inTransmission) count += 1;
    return count;
  }

  /** Why a connection accepted now must be closed at once (limits.ts), or undefined. */
  private refusal(): string | undefined {
    if (this.connections.size >= this.limits.connectionsMax) return `already ${this.connections.size} connections, the most one server keeps (connectionsMax)`;
    const handshaking = this.connections.size - this.transmissionCount;
    if (handshaking >= this.limits.handshakesMax) return `already ${handshaking} connections in the handshake (handshakesMax)`;
    return undefined;
  }

  async listen(): Promise<NbdServerAddress> {
    assert.ok(!this.listening, "NbdServer.listen called twice");
    await new Promise<void>((resolve, reject) => {
      const onListenError = (error: Error): void => {
        reject(error);
      };
      this.server.once("error", onListenError);
      this.server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        this.server.off("error", onListenError);
        resolve();
      });
    });
    this.listening = true;
    const address = this.server.address();
    assert.ok(address !== null && typeof address === "object");
    return { host: address.address, port: address.port };
  }

  /**
   * Stops listening and ends every connection: handshakes are cut, and
   * connections in transmission finish their in-flight requests first
   * (proto.md: the server SHOULD wait for them), within the disconnect
   * timeout.
   */
  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      if (!this.listening) {
        resolve();
        return;
      }
      this.server.close(() => {
        resolve();
      });
    });
    this.listening = false;
    const closing = [...this.connections].map((connection) => {
      connection.shutdown();
      return connection.closed;
    });
    await Promise.all([stopped, ...closing]);
  }

  private accept(socket: net.Socket): void {
    const refusal = this.refusal();
    if (refusal !== undefined) {
      // No greeting: a client sees the connection closed, as at a server that is not there.
      socket.destroy();
      this.context.onDisconnect(refusal);
      return;
    }
    const connection = new ServerConnection(socket, this.context);
    this.connections.add(connection);
    void connection.closed.then(() => {
      this.connections.delete(connection);
    });
  }
}
