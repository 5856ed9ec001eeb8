/**
 * What an NBD server serves: a provider of named exports. The device serves
 * its logical units this way, and each apparatus serves its virtual volumes
 * the same way, with one server implementation (`NbdServer`). An export is a
 * BlockIo (block-io.ts) plus what only a served export has.
 */
import type { BlockIo } from "./block-io.js";

/** The errnos NBD_proto.md allows on the wire, by name (NBD proto.md "Error values"). */
export type NbdErrorCode = "EPERM" | "EIO" | "EINVAL" | "ENOSPC" | "EOVERFLOW" | "ENOTSUP" | "ESHUTDOWN";

/**
 * An operating error of an export operation, carried to the client as the
 * matching NBD errno. Any other thrown error is answered with EIO.
 */
export class NbdError extends Error {
  readonly code: NbdErrorCode;
  constructor(code: NbdErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NbdError";
    this.code = code;
  }
}

/**
 * One export as the server sees it, opened for one connection. The server
 * checks every range against `sizeBytes` before it calls the export, so the
 * export's own range errors are never seen on the wire.
 */
export interface NbdExport extends BlockIo {
  readonly name: string;
  readonly readOnly: boolean;
  /**
   * True only when a FLUSH on any connection makes durable every write
   * completed on every connection to this export (NBD_FLAG_CAN_MULTI_CONN).
   */
  readonly multiConn: boolean;
  /**
   * True only when writeZeroes is always much faster than writing zeroes
   * (NBD_CMD_FLAG_FAST_ZERO may then run it); otherwise a fast zero is
   * answered ENOTSUP at once, as proto.md asks.
   */
  readonly fastZero?: boolean;
  /** Advisory (NBD proto.md: contents are unspecified until rewritten). */
  trim(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void>;
  /** The connection that opened this export is gone. */
  close(): void;
}

export interface NbdExportListing {
  readonly name: string;
  readonly description: string;
}

/** Who is on the other end of a connection, as far as the transport says. */
export interface NbdPeer {
  /** TLS was initiated (NBD_OPT_STARTTLS), so the client's certificate was verified against the CA. */
  readonly tls: boolean;
  /** The verified client certificate's subject fields (CN, OU, O, ...), under TLS. */
  readonly certificateSubject: Readonly<Record<string, unknown>> | undefined;
}

export interface NbdExportProvider {
  list(): readonly NbdExportListing[];
  /**
   * Opens an export for a new connection; undefined when there is none of
   * that name. Throwing NbdError EPERM refuses this peer: the client gets
   * NBD_REP_ERR_POLICY with the message (EXPORT_NAME: the session ends).
   */
  open(name: string, peer?: NbdPeer): NbdExport | undefined;
}
