/**
 * Whether an NBD request may run, decided from its header fields and what
 * the connection negotiated: a pure function, no socket and no export call,
 * so the rules of proto.md "Error values" and "Block size constraints" are
 * read (and tested) in one place.
 */
import {
  NBD_CMD_BLOCK_STATUS,
  NBD_CMD_FLAG_DF,
  NBD_CMD_FLAG_FAST_ZERO,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLAG_REQ_ONE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_ENOSPC,
  NBD_ENOTSUP,
  NBD_EPERM,
} from "./constants.js";
import type { NbdExport } from "./export.js";

/** What one connection negotiated, fixed for its transmission phase. */
export interface RequestPolicy {
  readonly structuredReplies: boolean;
  /** True once the client selected `base:allocation` (server-handshake.ts). */
  readonly blockStatusSelected: boolean;
  /** The maximum payload of READ and WRITE. */
  readonly requestSizeMaxBytes: number;
}

/** The export facts validation reads; its size is read per request, not cached. */
export type ValidatedExport = Pick<NbdExport, "sizeBytes" | "readOnly" | "fastZero">;

/**
 * The errno for a request, or 0 when it may run. Checks in order: unknown
 * command or flag (EINVAL), write to a read-only export (EPERM), length over
 * the maximum block size for READ and WRITE, whose payload it bounds
 * (EINVAL), range past the end (ENOSPC for WRITE and WRITE_ZEROES, EINVAL
 * for READ and TRIM, as proto.md says).
 */
export function requestErrno(
  command: number,
  flags: number,
  offsetBytes: number,
  lengthBytes: number,
  nbdExport: ValidatedExport,
  policy: RequestPolicy,
): number {
  const pastEnd = offsetBytes + lengthBytes > nbdExport.sizeBytes;
  const readOnly = nbdExport.readOnly;
  switch (command) {
    case NBD_CMD_READ: {
      // DF is valid only when SEND_DF was advertised, i.e. with structured
      // replies; our reads are always one chunk, so it needs no action.
      const allowed = NBD_CMD_FLAG_FUA | (policy.structuredReplies ? NBD_CMD_FLAG_DF : 0);
      if ((flags & ~allowed) !== 0 || lengthBytes > policy.requestSizeMaxBytes || pastEnd) return NBD_EINVAL;
      return 0;
    }
    case NBD_CMD_WRITE:
      if ((flags & ~NBD_CMD_FLAG_FUA) !== 0) return NBD_EINVAL;
      if (readOnly) return NBD_EPERM;
      if (lengthBytes > policy.requestSizeMaxBytes) return NBD_EINVAL;
      return pastEnd ? NBD_ENOSPC : 0;
    case NBD_CMD_WRITE_ZEROES:
      if ((flags & ~(NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO)) !== 0) return NBD_EINVAL;
      if (readOnly) return NBD_EPERM;
      // proto.md "Block size constraints": the maximum is a payload limit;
      // WRITE_ZEROES carries none and may be as long as the export.
      if (pastEnd) return NBD_ENOSPC;
      // proto.md: a fast zero that would be no faster than a WRITE MUST fail quickly with ENOTSUP.
      return (flags & NBD_CMD_FLAG_FAST_ZERO) !== 0 && nbdExport.fastZero !== true ? NBD_ENOTSUP : 0;
    case NBD_CMD_BLOCK_STATUS:
      // proto.md: only after SET_META_CONTEXT selected a context for this
      // export; a length of 0 is unspecified, refused like a range past the end.
      // FUA is valid on every command once SEND_FUA is negotiated and MUST be
      // accepted (proto.md "Command flags"); block status writes nothing, so it is ignored.
      if ((flags & ~(NBD_CMD_FLAG_REQ_ONE | NBD_CMD_FLAG_FUA)) !== 0 || !policy.blockStatusSelected) return NBD_EINVAL;
      return lengthBytes === 0 || pastEnd ? NBD_EINVAL : 0;
    case NBD_CMD_TRIM:
      // TRIM has no payload and no maximum block size (proto.md).
      if ((flags & ~NBD_CMD_FLAG_FUA) !== 0) return NBD_EINVAL;
      if (readOnly) return NBD_EPERM;
      return pastEnd ? NBD_EINVAL : 0;
    case NBD_CMD_FLUSH:
      // proto.md: offset and length are reserved and MUST be zero.
      if ((flags & ~NBD_CMD_FLAG_FUA) !== 0 || offsetBytes !== 0 || lengthBytes !== 0) return NBD_EINVAL;
      return 0;
    default:
      // Unknown commands, and CACHE, which we do not advertise (proto.md:
      // SHOULD return EINVAL).
      return NBD_EINVAL;
  }
}

/** How a server decides whether a request may run: requestErrno, unless whoever builds the server passes another. */
export type NbdRequestCheck = typeof requestErrno;

/** Bytes of data a request holds in memory while in flight. */
export function dataBytesOf(command: number, lengthBytes: number): number {
  return command === NBD_CMD_READ || command === NBD_CMD_WRITE ? lengthBytes : 0;
}

/** The message sent with a refusal's errno (structured replies carry one). */
export function errorMessageOf(errno: number, command: number): string {
  switch (errno) {
    case NBD_EPERM:
      return "the export is read-only";
    case NBD_ENOSPC:
      return "write past the end of the export";
    case NBD_ENOTSUP:
      return "this export cannot zero faster than it writes: fast zero not supported";
    default:
      return `invalid request (command ${command}): unknown command or flag, length over the maximum block size, or range past the end`;
  }
}
