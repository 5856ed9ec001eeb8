/**
 * The named limits of the NBD server, with their units and the reason for
 * each number. A server takes a partial override of these for tests.
 */
import assert from "node:assert/strict";
import { NBD_PORTABLE_BLOCK_SIZE_MAX_BYTES, NBD_STRING_MAX_BYTES } from "./constants.js";

export interface NbdServerLimits {
  /**
   * Largest READ or WRITE length, advertised as the maximum block size: a
   * payload limit (proto.md "Block size constraints"), so TRIM and
   * WRITE_ZEROES may be as long as the export. proto.md: lengths below 2^25 SHOULD NOT be treated as an
   * attack, so this is exactly what every portable client may send.
   */
  readonly requestSizeMaxBytes: number;
  /**
   * Requests in flight per connection. Beyond it the server stops reading
   * the socket until one completes (backpressure): 128 keeps a QD-16..64
   * client busy with room to spare, and bounds the memory a client can pin.
   */
  readonly inFlightMax: number;
  /**
   * Bytes of READ and WRITE data in flight per connection; reading pauses
   * once reached, so a client cannot make the server hold 128 × 32 MiB.
   */
  readonly inFlightBytesMax: number;
  /**
   * Reply bytes queued on the socket beyond which no new request is read:
   * a client that stops reading replies stops being served.
   */
  readonly replyBacklogMaxBytes: number;
  /**
   * A WRITE longer than `requestSizeMaxBytes` but at most this long has its
   * payload read and discarded, then gets EINVAL; a longer one is taken as
   * an attack and the connection dropped (proto.md "Block size constraints").
   */
  readonly writeDiscardMaxBytes: number;
  /** From accept to the transmission phase; a stalled handshake is dropped. */
  readonly handshakeTimeoutMs: number;
  /**
   * Largest option payload. NBD_OPT_GO carries a 4096-byte name at most,
   * plus a few info requests; 16 KiB leaves room for meta-context queries.
   */
  readonly optionPayloadMaxBytes: number;
  /**
   * Options per connection before transmission. `nbdinfo --list` sends one
   * NBD_OPT_INFO per export, so this is generous; it stops a client that
   * haggles forever (the handshake timeout bounds the time as well).
   */
  readonly handshakeOptionsMax: number;
  /**
   * After NBD_CMD_DISC or a server close: how long in-flight requests may
   * take and the peer may linger before the socket is destroyed.
   */
  readonly disconnectTimeoutMs: number;
  /**
   * Connections one server keeps open, in either phase; one more is closed
   * as soon as it is accepted. Each open connection may hold up to
   * inFlightBytesMax of payload, so this bounds a server's memory too.
   */
  readonly connectionsMax: number;
  /**
   * Connections in the handshake at once: a flood of clients that connect
   * and say nothing fills this, not connectionsMax, and each is dropped at
   * handshakeTimeoutMs; clients already transmitting are not disturbed.
   */
  readonly handshakesMax: number;
}

export const nbdServerLimitsDefault: NbdServerLimits = {
  requestSizeMaxBytes: NBD_PORTABLE_BLOCK_SIZE_MAX_BYTES,
  inFlightMax: 128,
  inFlightBytesMax: 256 * 1024 * 1024,
  replyBacklogMaxBytes: 64 * 1024 * 1024,
  writeDiscardMaxBytes: 4 * NBD_PORTABLE_BLOCK_SIZE_MAX_BYTES,
  handshakeTimeoutMs: 30_000,
  optionPayloadMaxBytes: 16 * 1024,
  handshakeOptionsMax: 1024,
  disconnectTimeoutMs: 10_000,
  // qemu opens one connection per disk (up to 16 with multi-conn), fio one per job: room for many hosts.
  connectionsMax: 512,
  handshakesMax: 64,
};

/** proto.md "Block size constraints": our minimum and preferred block sizes. */
export const blockSizeMinimumBytes = 1;
export const blockSizePreferredBytes = 4096;

/** Longest error message sent in an NBD_REPLY_TYPE_ERROR chunk or option error. */
export const errorMessageMaxBytes: number = 512;

assert.ok(errorMessageMaxBytes <= NBD_STRING_MAX_BYTES);

/** Merges overrides onto the defaults and checks the relations between limits. */
export function resolveServerLimits(overrides: Partial<NbdServerLimits> | undefined): NbdServerLimits {
  const limits: NbdServerLimits = { ...nbdServerLimitsDefault, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    assert.ok(Number.isSafeInteger(value) && value > 0, `NBD server limit ${name} must be a positive integer`);
  }
  // proto.md: the maximum block size is at least the preferred one, fits the
  // 32-bit length field, and (minimum 1) is a multiple of the minimum.
  assert.ok(limits.requestSizeMaxBytes >= blockSizePreferredBytes);
  assert.ok(limits.requestSizeMaxBytes <= 0xffffffff);
  assert.ok(limits.writeDiscardMaxBytes >= limits.requestSizeMaxBytes);
  assert.ok(limits.optionPayloadMaxBytes >= 4 + NBD_STRING_MAX_BYTES + 2);
  assert.ok(limits.handshakesMax <= limits.connectionsMax, "handshakesMax above connectionsMax never binds");
  return limits;
}
