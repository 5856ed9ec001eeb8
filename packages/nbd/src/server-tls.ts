/**
 * The server side of the TLS upgrade after NBD_OPT_STARTTLS: one `tls.Server`
 * per NbdServer that never listens, into which each upgrading connection's
 * socket is handed (its documented 'connection' injection). A tls.Server,
 * rather than a bare `tls.TLSSocket`, because only a server checks the
 * client's certificate chain against the CA after the handshake; a bare
 * server-side TLSSocket with `rejectUnauthorized` refuses a missing
 * certificate but accepts one from any CA.
 *
 * Every client must present a certificate the CA signed: the host is
 * authenticated, not just the link encrypted.
 */
import assert from "node:assert/strict";
import type net from "node:net";
import tls from "node:tls";
import type { NbdTlsMode } from "./tls-policy.js";

/** TLS for an NbdServer: the mode, and in "on"/"require" the PEM material. */
export interface NbdServerTls {
  readonly mode: NbdTlsMode;
  /** The server's private key (PEM). */
  readonly key?: string | Buffer;
  /** The server's certificate (PEM), with any intermediates after it. */
  readonly cert?: string | Buffer;
  /** The CA (PEM) that signs the client certificates accepted. */
  readonly ca?: string | Buffer;
}

/**
 * proto.md "TLS versions": MUST support 1.2, SHOULD NOT offer older ones by
 * default. libnbd and qemu (GnuTLS) negotiate 1.3 where both sides have it.
 */
export const nbdTlsMinVersion = "TLSv1.2";

type Secured = (socket: tls.TLSSocket) => void;

/** Who a socket is, as the same string from the plain socket and the TLS socket over it. */
function peerKeyOf(socket: net.Socket): string | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined || localPort === undefined) return undefined;
  return `${remoteAddress}:${remotePort}>${localAddress}:${localPort}`;
}

export class TlsUpgrader {
  private readonly server: tls.Server;
  /** Connections in their TLS handshake, by peer key, waiting for 'secureConnection'. */
  private readonly waiting = new Map<string, Secured>();

  constructor(
    settings: NbdServerTls,
    handshakeTimeoutMs: number,
    private readonly onDisconnect: (reason: string) => void,
  ) {
    assert.ok(settings.mode !== "off", "a TlsUpgrader is made only when TLS is offered");
    assert.ok(settings.key !== undefined && settings.cert !== undefined && settings.ca !== undefined, `NBD TLS mode "${settings.mode}" needs key, cert and ca`);
    this.server = tls.createServer({
      key: settings.key,
      cert: settings.cert,
      ca: settings.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: nbdTlsMinVersion,
      // The NBD handshake timer bounds it too (server.ts); this one ends the TLS socket itself.
      handshakeTimeout: handshakeTimeoutMs,
    });
    this.server.on("secureConnection", (secured) => {
      this.onSecure(secured);
    });
    this.server.on("tlsClientError", (error) => {
      // The socket is destroyed already; the connection sees it close.
      this.onDisconnect(`TLS handshake failed: ${error.message.split("\n")[0] ?? ""}`);
    });
  }

  /**
   * Starts the server side of the TLS handshake on `socket` (after the ACK
   * of NBD_OPT_STARTTLS was written); `secured` gets the TLS socket once the
   * client's certificate is verified. On failure the socket is destroyed.
   */
  upgrade(socket: net.Socket, secured: Secured): void {
    const key = peerKeyOf(socket);
    if (key === undefined || this.waiting.has(key)) {
      socket.destroy();
      return;
    }
    this.waiting.set(key, secured);
    socket.once("close", () => {
      this.waiting.delete(key);
    });
    this.server.emit("connection", socket);
  }

  private onSecure(socket: tls.TLSSocket): void {
    const key = peerKeyOf(socket);
    const secured = key === undefined ? undefined : this.waiting.get(key);
    if (key === undefined || secured === undefined) {
      socket.destroy();
      return;
    }
    this.waiting.delete(key);
    // tls.Server verified the chain (onServerSocketSecure) before emitting; stays asserted.
    assert.ok(socket.authorized, "tls.Server emitted an unauthorized client");
    secured(socket);
  }
}
