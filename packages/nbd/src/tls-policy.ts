/**
 * The server's TLS policy during option haggling (proto.md "TLS support"),
 * as a pure function of the mode, the connection's TLS state and the option:
 * whether the option is handled as usual, refused with an option error,
 * answered by upgrading to TLS, or ends the session. No sockets here; the
 * handshake (server-handshake.ts) acts on the decision.
 *
 * Modes: "off" is proto.md's NOTLS, "require" its FORCEDTLS, "on" the
 * SELECTIVETLS case where no export is TLS-only (a client may upgrade, and
 * every export is served either way).
 */
import {
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_STARTTLS,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_POLICY,
  NBD_REP_ERR_TLS_REQD,
} from "./constants.js";

export type NbdTlsMode = "off" | "on" | "require";

export const nbdTlsModes: readonly NbdTlsMode[] = ["off", "on", "require"];

export function isNbdTlsMode(text: string): text is NbdTlsMode {
  return (nbdTlsModes as readonly string[]).includes(text);
}

export type TlsDecision =
  | { readonly kind: "handle" }
  | { readonly kind: "refuse"; readonly replyType: number; readonly message: string }
  | { readonly kind: "upgrade" }
  | { readonly kind: "disconnect"; readonly reason: string };

export interface TlsState {
  readonly mode: NbdTlsMode;
  /** The client set NBD_FLAG_C_FIXED_NEWSTYLE; without it proto.md allows NOTLS only. */
  readonly fixedNewstyle: boolean;
  /** TLS was initiated on this connection. */
  readonly active: boolean;
}

const handle: TlsDecision = { kind: "handle" };

/** What the server does with `option` (carrying `payloadBytes` of data) in `state`. */
export function tlsDecision(state: TlsState, option: number, payloadBytes: number): TlsDecision {
  if (option === NBD_OPT_STARTTLS) return startTlsDecision(state, payloadBytes);
  if (state.mode !== "require" || state.active) return handle;
  // FORCEDTLS: only STARTTLS and ABORT are served before TLS.
  if (option === NBD_OPT_ABORT) return handle;
  if (option === NBD_OPT_EXPORT_NAME) {
    // proto.md: EXPORT_NAME cannot be answered with an error, so the server MUST terminate the session.
    return { kind: "disconnect", reason: "NBD_OPT_EXPORT_NAME before TLS on a server that requires TLS" };
  }
  return { kind: "refuse", replyType: NBD_REP_ERR_TLS_REQD, message: "this server requires TLS: send NBD_OPT_STARTTLS first" };
}

function startTlsDecision(state: TlsState, payloadBytes: number): TlsDecision {
  // NOTLS: proto.md wants ERR_POLICY from a server that does not offer TLS by choice.
  if (state.mode === "off" || !state.fixedNewstyle) {
    return { kind: "refuse", replyType: NBD_REP_ERR_POLICY, message: "this server does not offer TLS" };
  }
  // proto.md: a second STARTTLS inside TLS MUST get ERR_INVALID.
  if (state.active) return { kind: "refuse", replyType: NBD_REP_ERR_INVALID, message: "TLS is already active" };
  if (payloadBytes !== 0) return { kind: "refuse", replyType: NBD_REP_ERR_INVALID, message: "NBD_OPT_STARTTLS takes no data" };
  return { kind: "upgrade" };
}
