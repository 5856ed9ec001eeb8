/**
 * A gRPC server that listens through a ConnectionGate: it accepts TCP
 * itself, does the mutual-TLS handshake itself, and hands grpc-js only
 * connections that are admitted and, with TLS, verified.
 *
 * Why not grpc-js's own listener: it has no cap on connections or on
 * handshakes in progress, and its TLS handshake waits Node's default two
 * minutes, so a peer could hold any number of half-open handshakes. grpc-js
 * 1.14 takes connections from elsewhere through a connection injector; an
 * injector over plain HTTP/2 given an already verified TLS socket still
 * fills each call's auth context from it (server-interceptors.js
 * getAuthContext reads the session's TLSSocket), so authorization.ts reads
 * the caller's certificate as before.
 *
 * The TLS side is a `tls.Server` that never listens (as nbd's server-tls.ts):
 * only a server checks the client's chain against the CA; sockets are handed
 * to it by its documented 'connection' event, and its 'secureConnection' is
 * matched back to the socket by the connection's address pair.
 */
import * as grpc from "@grpc/grpc-js";
import net from "node:net";
import tls from "node:tls";
import { ConnectionGate, controlConnectionLimits, type ConnectionCounts, type ConnectionLimits } from "./connection-gate.js";
import type { TlsMaterial } from "./grpc-credentials.js";

/** gRPC over TLS needs HTTP/2 by ALPN (RFC 7540 3.3); a client offering only HTTP/1.1 is refused in the handshake. */
const alpnProtocols = ["h2"];
/** TLS 1.2 and later, as for NBD (nbd/server-tls.ts). */
const controlTlsMinVersion = "TLSv1.2";

/** One accepted socket, as the gate knows it. */
interface Accepted {
  readonly socket: net.Socket;
  handshaking: boolean;
}

/** The same string from a plain socket and the TLS socket over it. */
function peerKeyOf(socket: net.Socket): string | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined || localPort === undefined) return undefined;
  return `${remoteAddress}:${remotePort}>${localAddress}:${localPort}`;
}

export class GuardedServer extends grpc.Server {
  private readonly gate: ConnectionGate;
  private listener: net.Server | undefined;
  /** Sockets in their TLS handshake, by peer key, until 'secureConnection' or close. */
  private readonly handshaking = new Map<string, Accepted>();

  constructor(options: grpc.ServerOptions, private readonly limits: ConnectionLimits = controlConnectionLimits) {
    super(options);
    this.gate = new ConnectionGate(limits);
  }

  /**
   * Listens on host:port (0: any free port) with mutual TLS from `material`,
   * or plain HTTP/2 without; resolves to the port bound. Add services first.
   */
  async listen(host: string, port: number, material: TlsMaterial | undefined): Promise<number> {
    const injector = this.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const upgrade = material === undefined ? undefined : this.tlsServer(material, (secured) => {
      injector.injectConnection(secured);
    });
    const listener = net.createServer((socket) => {
      this.accept(socket, upgrade, (ready) => {
        injector.injectConnection(ready);
      });
    });
    this.listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen(port, host, () => {
        listener.off("error", reject);
        resolve();
      });
    });
    const address = listener.address();
    return typeof address === "object" && address !== null ? address.port : port;
  }

  get connectionCounts(): ConnectionCounts {
    return this.gate.counts;
  }

  override tryShutdown(callback: (error?: Error) => void): void {
    this.closeListener();
    super.tryShutdown(callback);
  }

  override forceShutdown(): void {
    this.closeListener();
    super.forceShutdown();
  }

  private accept(socket: net.Socket, upgrade: tls.Server | undefined, ready: (socket: net.Socket) => void): void {
    const admission = this.gate.admit(upgrade !== undefined);
    if (!admission.admitted) {
      socket.destroy();
      return;
    }
    const accepted: Accepted = { socket, handshaking: upgrade !== undefined };
    const key = peerKeyOf(socket);
    socket.once("close", () => {
      if (key !== undefined && this.handshaking.get(key) === accepted) this.handshaking.delete(key);
      this.gate.closed(accepted.handshaking);
    });
    if (upgrade === undefined) {
      ready(socket);
      return;
    }
    if (key === undefined || this.handshaking.has(key)) {
      socket.destroy();
      return;
    }
    this.handshaking.set(key, accepted);
    // Ours, not tls.Server's handshakeTimeout: that one never fires for a peer that sends nothing at all.
    const timer = setTimeout(() => {
      if (accepted.handshaking) socket.destroy();
    }, this.limits.handshakeTimeoutMs);
    socket.once("close", () => { clearTimeout(timer); });
    upgrade.emit("connection", socket);
  }

  /** The non-listening TLS server that verifies each client against the CA; `secured` gets each verified socket. */
  private tlsServer(material: TlsMaterial, secured: (socket: tls.TLSSocket) => void): tls.Server {
    const server = tls.createServer({
      ca: material.ca,
      cert: material.certificate,
      key: material.key,
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: alpnProtocols,
      minVersion: controlTlsMinVersion,
    });
    server.on("secureConnection", (socket) => {
      const key = peerKeyOf(socket);
      const accepted = key === undefined ? undefined : this.handshaking.get(key);
      if (key === undefined || accepted === undefined) {
        socket.destroy();
        return;
      }
      this.handshaking.delete(key);
      accepted.handshaking = false;
      this.gate.handshakeEnded();
      secured(socket);
    });
    // A failed or timed-out handshake: tls.Server destroys the socket, and its close settles the gate.
    server.on("tlsClientError", () => undefined);
    return server;
  }

  private closeListener(): void {
    this.listener?.close();
    this.listener = undefined;
    for (const { socket } of this.handshaking.values()) socket.destroy();
    this.handshaking.clear();
  }
}
