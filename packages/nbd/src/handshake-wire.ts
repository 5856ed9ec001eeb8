/**
 * Encoders and parsers of option data for the server handshake: the request
 * of NBD_OPT_INFO / NBD_OPT_GO, the data of NBD_REP_META_CONTEXT and
 * NBD_REP_INFO strings, and an export's transmission flags. Pure functions.
 */
import {
  NBD_FLAG_CAN_MULTI_CONN,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_READ_ONLY,
  NBD_FLAG_SEND_DF,
  NBD_FLAG_SEND_FAST_ZERO,
  NBD_FLAG_SEND_FLUSH,
  NBD_FLAG_SEND_FUA,
  NBD_FLAG_SEND_TRIM,
  NBD_FLAG_SEND_WRITE_ZEROES,
  NBD_STRING_MAX_BYTES,
} from "./constants.js";
import type { NbdExport } from "./export.js";
import { truncatedUtf8 } from "./wire.js";

export interface InfoRequest {
  readonly name: string;
  readonly infoTypes: ReadonlySet<number>;
}

/**
 * Parses NBD_OPT_INFO / NBD_OPT_GO data: 32-bit name length, name, 16-bit
 * count, count × 16-bit info types. Returns why it is invalid, as a string.
 */
export function parseInfoRequest(payload: Buffer): InfoRequest | string {
  if (payload.length < 6) return "option data shorter than 6 bytes";
  const nameBytes = payload.readUInt32BE(0);
  // proto.md: the name length MUST be no larger than the data length - 6.
  if (nameBytes > payload.length - 6) return "export name length exceeds the option data";
  if (nameBytes > NBD_STRING_MAX_BYTES) return "export name longer than 4096 bytes";
  const count = payload.readUInt16BE(4 + nameBytes);
  if (payload.length !== 4 + nameBytes + 2 + 2 * count) return "information request count does not match the option length";
  const infoTypes = new Set<number>();
  for (let index = 0; index < count; index += 1) infoTypes.add(payload.readUInt16BE(4 + nameBytes + 2 + 2 * index));
  return { name: payload.toString("utf8", 4, 4 + nameBytes), infoTypes };
}

/** NBD_REP_META_CONTEXT data: 32-bit context id, then the context's name. */
export function metaContextReply(contextId: number, name: string): Buffer {
  const encoded = Buffer.from(name, "utf8");
  const data = Buffer.allocUnsafe(4 + encoded.length);
  data.writeUInt32BE(contextId, 0);
  encoded.copy(data, 4);
  return data;
}

export function infoString(infoType: number, text: string): Buffer {
  const encoded = truncatedUtf8(text, NBD_STRING_MAX_BYTES);
  const data = Buffer.allocUnsafe(2 + encoded.length);
  data.writeUInt16BE(infoType, 0);
  encoded.copy(data, 2);
  return data;
}

/** Transmission flags for an export (proto.md "Transmission flags"). */
export function transmissionFlagsOf(nbdExport: NbdExport, structuredReplies: boolean): number {
  let flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH;
  // A read-only export advertises no write-side feature; writes still get
  // EPERM if a client sends them anyway.
  if (nbdExport.readOnly) flags |= NBD_FLAG_READ_ONLY;
  // SEND_FAST_ZERO: proto.md lets a server advertise it and answer ENOTSUP
  // to every fast zero it cannot do quickly, which is what a client needs to know.
  else flags |= NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_FAST_ZERO;
  // proto.md: SEND_DF MUST be clear unless structured replies were negotiated.
  if (structuredReplies) flags |= NBD_FLAG_SEND_DF;
  if (nbdExport.multiConn) flags |= NBD_FLAG_CAN_MULTI_CONN;
  return flags;
}
