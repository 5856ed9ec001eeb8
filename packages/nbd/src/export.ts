/**
 * What an NBD server serves: a provider of named exports. The device serves
 * its logical units this way, and each apparatus serves its virtual volumes
 * the same way, with one server implementation (`NbdServer`).
 */

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

export interface WriteZeroesFlags {
  /** NBD_CMD_FLAG_FUA: durable before the reply. */
  readonly fua: boolean;
  /** NBD_CMD_FLAG_NO_HOLE: the range must be allocated, not punched. */
  readonly noHole: boolean;
}

/** One export as the server sees it, opened for one connection. */
export interface NbdExport {
  readonly name: string;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  /**
   * True only when a FLUSH on any connection makes durable every write
   * completed on every connection to this export (NBD_FLAG_CAN_MULTI_CONN).
   */
  readonly multiConn: boolean;
  /** Fills `into` (its whole length) from `offsetBytes`. */
  read(offsetBytes: number, into: Buffer): Promise<void>;
  /** `data` is lent until the promise settles: the server reuses it for later requests. */
  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void>;
  /** Makes every write completed before it durable. */
  flush(): Promise<void>;
  /** Advisory (NBD proto.md: contents are unspecified until rewritten). */
  trim(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void>;
  writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void>;
  /** The connection that opened this export is gone. */
  close(): void;
}

export interface NbdExportListing {
  readonly name: string;
  readonly description: string;
}

export interface NbdExportProvider {
  list(): readonly NbdExportListing[];
  /** Opens an export for a new connection; undefined when there is none of that name. */
  open(name: string): NbdExport | undefined;
}
