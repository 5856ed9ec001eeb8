/**
 * Every constant of the NBD protocol, written from the specification
 * (NetworkBlockDevice/nbd doc/proto.md). Names are the spec's own, so a reader
 * with the spec in hand finds each one by search. Values are numbers; 64-bit
 * magics are also given as BigInt for whoever needs the whole value.
 *
 * Sections follow proto.md: magics, handshake flags, options, option replies,
 * info types, transmission flags, commands and their flags, structured reply
 * flags and types, errno values, then the wire sizes derived from the layouts.
 */
import assert from "node:assert/strict";
import type { NbdErrorCode } from "./export.js";

// ---------------------------------------------------------------------------
// Magics (proto.md "Handshake", "Transmission", "Reserved Magic values")
// ---------------------------------------------------------------------------

/** 'NBDMAGIC', the first 8 bytes the server sends (also called INIT_PASSWD). */
export const NBD_INIT_PASSWD = 0x4e42444d41474943n;
/** 'IHAVEOPT': second server magic in newstyle, and the prefix of every option. */
export const NBD_OPTS_MAGIC = 0x49484156454f5054n;
/** Oldstyle negotiation's second magic (cliserv_magic); never sent by this library. */
export const NBD_CLISERV_MAGIC = 0x00420281861253n;
/** Prefix of every option reply in fixed newstyle. */
export const NBD_REP_MAGIC = 0x3e889045565a9n;
export const NBD_REQUEST_MAGIC = 0x25609513;
/** Request magic with extended headers (proto.md, extended headers). */
export const NBD_EXTENDED_REQUEST_MAGIC = 0x21e41c71;
/** Called NBD_REPLY_MAGIC before structured replies existed. */
export const NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
export const NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;
/** Reply magic with extended headers. */
export const NBD_EXTENDED_REPLY_MAGIC = 0x6e8a278c;
/** Reserved: historic request magic used until Linux 2.1.116pre2. */
export const NBD_REQUEST_MAGIC_HISTORIC = 0x12560953;
/** Reserved: historic reply magic used until Linux 2.1.116pre2. */
export const NBD_REPLY_MAGIC_HISTORIC = 0x96744668;
/** Reserved: nbd-server's transaction log marker, never on the wire. */
export const NBD_DATALOG_MAGIC_RESERVED = 0x25609514;

// The 64-bit magics split into two 32-bit halves, for Buffer.writeUInt32BE
// on the hot path without BigInt.
export const NBD_INIT_PASSWD_HIGH = 0x4e42444d;
export const NBD_INIT_PASSWD_LOW = 0x41474943;
export const NBD_OPTS_MAGIC_HIGH = 0x49484156;
export const NBD_OPTS_MAGIC_LOW = 0x454f5054;
export const NBD_REP_MAGIC_HIGH = 0x0003e889;
export const NBD_REP_MAGIC_LOW = 0x045565a9;

// ---------------------------------------------------------------------------
// Handshake flags (server, 16 bits) and client flags (32 bits)
// ---------------------------------------------------------------------------

export const NBD_FLAG_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_NO_ZEROES = 1 << 1;

export const NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_C_NO_ZEROES = 1 << 1;

// ---------------------------------------------------------------------------
// Option types (proto.md "Option types")
// ---------------------------------------------------------------------------

export const NBD_OPT_EXPORT_NAME = 1;
export const NBD_OPT_ABORT = 2;
export const NBD_OPT_LIST = 3;
/** Withdrawn experimental PEEK_EXPORT extension; not in use. */
export const NBD_OPT_PEEK_EXPORT = 4;
export const NBD_OPT_STARTTLS = 5;
export const NBD_OPT_INFO = 6;
export const NBD_OPT_GO = 7;
export const NBD_OPT_STRUCTURED_REPLY = 8;
export const NBD_OPT_LIST_META_CONTEXT = 9;
export const NBD_OPT_SET_META_CONTEXT = 10;
export const NBD_OPT_EXTENDED_HEADERS = 11;

// ---------------------------------------------------------------------------
// Option reply types (proto.md "Option reply types"); errors have bit 31 set
// ---------------------------------------------------------------------------

export const NBD_REP_ACK = 1;
export const NBD_REP_SERVER = 2;
export const NBD_REP_INFO = 3;
export const NBD_REP_META_CONTEXT = 4;

/** Bit 31 marks every option error reply. */
export const NBD_REP_FLAG_ERROR = 0x80000000;
export const NBD_REP_ERR_UNSUP = NBD_REP_FLAG_ERROR + 1;
export const NBD_REP_ERR_POLICY = NBD_REP_FLAG_ERROR + 2;
export const NBD_REP_ERR_INVALID = NBD_REP_FLAG_ERROR + 3;
export const NBD_REP_ERR_PLATFORM = NBD_REP_FLAG_ERROR + 4;
export const NBD_REP_ERR_TLS_REQD = NBD_REP_FLAG_ERROR + 5;
export const NBD_REP_ERR_UNKNOWN = NBD_REP_FLAG_ERROR + 6;
export const NBD_REP_ERR_SHUTDOWN = NBD_REP_FLAG_ERROR + 7;
export const NBD_REP_ERR_BLOCK_SIZE_REQD = NBD_REP_FLAG_ERROR + 8;
export const NBD_REP_ERR_TOO_BIG = NBD_REP_FLAG_ERROR + 9;
export const NBD_REP_ERR_EXT_HEADER_REQD = NBD_REP_FLAG_ERROR + 10;

// ---------------------------------------------------------------------------
// Information types of NBD_REP_INFO (NBD_OPT_INFO / NBD_OPT_GO)
// ---------------------------------------------------------------------------

export const NBD_INFO_EXPORT = 0;
export const NBD_INFO_NAME = 1;
export const NBD_INFO_DESCRIPTION = 2;
export const NBD_INFO_BLOCK_SIZE = 3;

// ---------------------------------------------------------------------------
// Transmission flags (16 bits, proto.md "Transmission flags")
// ---------------------------------------------------------------------------

export const NBD_FLAG_HAS_FLAGS = 1 << 0;
export const NBD_FLAG_READ_ONLY = 1 << 1;
export const NBD_FLAG_SEND_FLUSH = 1 << 2;
export const NBD_FLAG_SEND_FUA = 1 << 3;
export const NBD_FLAG_ROTATIONAL = 1 << 4;
export const NBD_FLAG_SEND_TRIM = 1 << 5;
export const NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6;
export const NBD_FLAG_SEND_DF = 1 << 7;
export const NBD_FLAG_CAN_MULTI_CONN = 1 << 8;
/** Experimental RESIZE extension. */
export const NBD_FLAG_SEND_RESIZE = 1 << 9;
export const NBD_FLAG_SEND_CACHE = 1 << 10;
export const NBD_FLAG_SEND_FAST_ZERO = 1 << 11;
/** Extended headers: NBD_CMD_BLOCK_STATUS may carry a payload. */
export const NBD_FLAG_BLOCK_STAT_PAYLOAD = 1 << 12;

// ---------------------------------------------------------------------------
// Command types (proto.md "Request types")
// ---------------------------------------------------------------------------

export const NBD_CMD_READ = 0;
export const NBD_CMD_WRITE = 1;
export const NBD_CMD_DISC = 2;
export const NBD_CMD_FLUSH = 3;
export const NBD_CMD_TRIM = 4;
export const NBD_CMD_CACHE = 5;
export const NBD_CMD_WRITE_ZEROES = 6;
export const NBD_CMD_BLOCK_STATUS = 7;
/** Experimental RESIZE extension. */
export const NBD_CMD_RESIZE = 8;

// ---------------------------------------------------------------------------
// Command flags (16 bits, proto.md "Command flags")
// ---------------------------------------------------------------------------

export const NBD_CMD_FLAG_FUA = 1 << 0;
export const NBD_CMD_FLAG_NO_HOLE = 1 << 1;
export const NBD_CMD_FLAG_DF = 1 << 2;
export const NBD_CMD_FLAG_REQ_ONE = 1 << 3;
export const NBD_CMD_FLAG_FAST_ZERO = 1 << 4;
/** Extended headers: the length field is a payload length. */
export const NBD_CMD_FLAG_PAYLOAD_LEN = 1 << 5;

// ---------------------------------------------------------------------------
// Structured replies (proto.md "Structured reply flags" and "types")
// ---------------------------------------------------------------------------

export const NBD_REPLY_FLAG_DONE = 1 << 0;

export const NBD_REPLY_TYPE_NONE = 0;
export const NBD_REPLY_TYPE_OFFSET_DATA = 1;
export const NBD_REPLY_TYPE_OFFSET_HOLE = 2;
export const NBD_REPLY_TYPE_BLOCK_STATUS = 5;
/** Extended headers: block status with 64-bit lengths. */
export const NBD_REPLY_TYPE_BLOCK_STATUS_EXT = 6;
/** Bit 15 marks every error chunk type. */
export const NBD_REPLY_TYPE_FLAG_ERROR = 1 << 15;
export const NBD_REPLY_TYPE_ERROR = NBD_REPLY_TYPE_FLAG_ERROR + 1;
export const NBD_REPLY_TYPE_ERROR_OFFSET = NBD_REPLY_TYPE_FLAG_ERROR + 2;

// ---------------------------------------------------------------------------
// base:allocation metadata context status flags
// ---------------------------------------------------------------------------

export const NBD_META_CONTEXT_BASE_ALLOCATION = "base:allocation";
export const NBD_STATE_HOLE = 1 << 0;
export const NBD_STATE_ZERO = 1 << 1;

// ---------------------------------------------------------------------------
// Error values (proto.md "Error values"): the only errnos on the wire
// ---------------------------------------------------------------------------

export const NBD_EPERM = 1;
export const NBD_EIO = 5;
/** Defined by the spec, which says a server SHOULD NOT return it; we never do. */
export const NBD_ENOMEM = 12;
export const NBD_EINVAL = 22;
export const NBD_ENOSPC = 28;
export const NBD_EOVERFLOW = 75;
export const NBD_ENOTSUP = 95;
export const NBD_ESHUTDOWN = 108;

/** Wire errno of each error code an export may raise. */
export const NBD_ERRNO_BY_CODE: Readonly<Record<NbdErrorCode, number>> = {
  EPERM: NBD_EPERM,
  EIO: NBD_EIO,
  EINVAL: NBD_EINVAL,
  ENOSPC: NBD_ENOSPC,
  EOVERFLOW: NBD_EOVERFLOW,
  ENOTSUP: NBD_ENOTSUP,
  ESHUTDOWN: NBD_ESHUTDOWN,
};

/**
 * The error code of a wire errno. proto.md: "The client SHOULD treat an
 * unexpected error value as if it had been NBD_EINVAL" (ENOMEM included:
 * it is not one of the codes our exports raise).
 */
export function nbdErrorCodeOfErrno(errno: number): NbdErrorCode {
  switch (errno) {
    case NBD_EPERM:
      return "EPERM";
    case NBD_EIO:
      return "EIO";
    case NBD_ENOSPC:
      return "ENOSPC";
    case NBD_EOVERFLOW:
      return "EOVERFLOW";
    case NBD_ENOTSUP:
      return "ENOTSUP";
    case NBD_ESHUTDOWN:
      return "ESHUTDOWN";
    default:
      return "EINVAL";
  }
}

// ---------------------------------------------------------------------------
// Wire sizes, from the message layouts in proto.md
// ---------------------------------------------------------------------------

/** NBDMAGIC + IHAVEOPT + 16-bit handshake flags. */
export const NBD_SERVER_GREETING_BYTES = 8 + 8 + 2;
export const NBD_CLIENT_FLAGS_BYTES = 4;
/** IHAVEOPT + 32-bit option + 32-bit length. */
export const NBD_OPTION_HEADER_BYTES = 8 + 4 + 4;
/** Reply magic + 32-bit option + 32-bit reply type + 32-bit length. */
export const NBD_OPTION_REPLY_HEADER_BYTES = 8 + 4 + 4 + 4;
/** Reply to NBD_OPT_EXPORT_NAME: 64-bit size + 16-bit flags (+ zeroes). */
export const NBD_EXPORT_NAME_REPLY_BYTES = 8 + 2;
export const NBD_EXPORT_NAME_REPLY_ZEROES_BYTES = 124;
/** NBD_INFO_EXPORT payload: type + size + flags. */
export const NBD_INFO_EXPORT_BYTES = 2 + 8 + 2;
/** NBD_INFO_BLOCK_SIZE payload: type + minimum + preferred + maximum. */
export const NBD_INFO_BLOCK_SIZE_BYTES = 2 + 4 + 4 + 4;
/** Magic, flags, type, handle, offset, length. */
export const NBD_REQUEST_BYTES = 4 + 2 + 2 + 8 + 8 + 4;
/** Magic, error, handle. */
export const NBD_SIMPLE_REPLY_BYTES = 4 + 4 + 8;
/** Magic, flags, type, handle, length. */
export const NBD_STRUCTURED_REPLY_HEADER_BYTES = 4 + 2 + 2 + 8 + 4;
/** OFFSET_DATA payload prefix: 64-bit offset. */
export const NBD_OFFSET_DATA_PREFIX_BYTES = 8;
/** ERROR payload prefix: 32-bit errno + 16-bit message length. */
export const NBD_ERROR_CHUNK_PREFIX_BYTES = 4 + 2;
/** proto.md "Conventions": a string MUST be no longer than 4096 bytes. */
export const NBD_STRING_MAX_BYTES = 4096;
/** proto.md "Block size constraints": what a portable client may assume. */
export const NBD_PORTABLE_BLOCK_SIZE_MAX_BYTES = 2 ** 25;

assert.equal(NBD_REQUEST_BYTES, 28);
assert.equal(NBD_SIMPLE_REPLY_BYTES, 16);
assert.equal(NBD_STRUCTURED_REPLY_HEADER_BYTES, 20);
assert.equal(NBD_OPTION_REPLY_HEADER_BYTES, 20);
assert.equal(BigInt(NBD_INIT_PASSWD_HIGH) * 2n ** 32n + BigInt(NBD_INIT_PASSWD_LOW), NBD_INIT_PASSWD);
assert.equal(BigInt(NBD_OPTS_MAGIC_HIGH) * 2n ** 32n + BigInt(NBD_OPTS_MAGIC_LOW), NBD_OPTS_MAGIC);
assert.equal(BigInt(NBD_REP_MAGIC_HIGH) * 2n ** 32n + BigInt(NBD_REP_MAGIC_LOW), NBD_REP_MAGIC);
