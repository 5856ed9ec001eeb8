/**
 * How many connections a control (gRPC) server takes, as a core with no
 * I/O: the listener (guarded-server.ts) asks it on every accepted socket and
 * tells it when a TLS handshake ends and when a socket closes.
 *
 * Two caps, as nbd/limits.ts has for NBD: open connections, and connections
 * still in their TLS handshake. A peer that opens connections and never
 * finishes the handshake fills only the second, each is dropped at the
 * handshake timeout, and callers already talking are not disturbed.
 */
import assert from "node:assert/strict";

export interface ConnectionLimits {
  /** Open connections at once, handshaking or not. */
  readonly connectionsMax: number;
  /** Connections in their TLS handshake at once (at most connectionsMax). */
  readonly handshakesMax: number;
  /** A TLS handshake not finished by then is dropped. */
  readonly handshakeTimeoutMs: number;
}

/**
 * A cluster's control peers are a handful of channels per node (each
 * apparatus to the device and to its peers, the controller to each
 * apparatus, a console or two), so 256 connections leave room for 50 nodes
 * and the people watching them. 32 handshakes at once are more than a whole
 * cluster restarting makes; 10 s is far above a handshake on a LAN (a few
 * milliseconds) and below the 2 minutes Node waits by default.
 */
export const controlConnectionLimits: ConnectionLimits = {
  connectionsMax: 256,
  handshakesMax: 32,
  handshakeTimeoutMs: 10_000,
};

export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly reason: string };

/** What the gate has let in, and how many it turned away, for metrics and tests. */
export interface ConnectionCounts {
  readonly open: number;
  readonly handshaking: number;
  readonly refused: number;
}

export class ConnectionGate {
  private open = 0;
  private handshaking = 0;
  private refused = 0;

  constructor(private readonly limits: ConnectionLimits) {
    assert.ok(limits.handshakesMax <= limits.connectionsMax, "handshakesMax above connectionsMax never binds");
    assert.ok(limits.connectionsMax > 0 && limits.handshakeTimeoutMs > 0);
  }

  /** A socket was accepted; `handshake`: it starts a TLS handshake (otherwise it is ready at once). */
  admit(handshake: boolean): Admission {
    if (this.open >= this.limits.connectionsMax) return this.refuse(`${this.limits.connectionsMax} connections are open (limit)`);
    if (handshake && this.handshaking >= this.limits.handshakesMax) return this.refuse(`${this.limits.handshakesMax} TLS handshakes are in progress (limit)`);
    this.open += 1;
    if (handshake) this.handshaking += 1;
    return { admitted: true };
  }

  /** An admitted socket finished its TLS handshake. */
  handshakeEnded(): void {
    assert.ok(this.handshaking > 0, "a handshake ended that never began");
    this.handshaking -= 1;
  }

  /** An admitted socket closed; `handshaking`: before its handshake ended. */
  closed(handshaking: boolean): void {
    assert.ok(this.open > 0, "a connection closed that was never open");
    this.open -= 1;
    if (handshaking) this.handshakeEnded();
  }

  get counts(): ConnectionCounts {
    return { open: this.open, handshaking: this.handshaking, refused: this.refused };
  }

  private refuse(reason: string): Admission {
    this.refused += 1;
    return { admitted: false, reason };
  }
}
