/**
 * The client side of the NBD handshake: fixed newstyle greeting,
 * NBD_OPT_STARTTLS when TLS is asked for (client-tls.ts), then NBD_OPT_GO
 * (falling back to NBD_OPT_EXPORT_NAME for a server that does not know it)
 * or NBD_OPT_LIST, over the connection of client-socket.ts. Every step is
 * bounded by one deadline.
 */
import {
  NBD_EXPORT_NAME_REPLY_BYTES,
  NBD_EXPORT_NAME_REPLY_ZEROES_BYTES,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_BLOCK_SIZE_BYTES,
  NBD_INFO_EXPORT,
  NBD_INFO_EXPORT_BYTES,
  NBD_INIT_PASSWD_HIGH,
  NBD_INIT_PASSWD_LOW,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_LIST,
  NBD_OPTION_REPLY_HEADER_BYTES,
  NBD_OPTS_MAGIC_HIGH,
  NBD_OPTS_MAGIC_LOW,
  NBD_REP_ACK,
  NBD_REP_ERR_TLS_REQD,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_FLAG_ERROR,
  NBD_REP_INFO,
  NBD_REP_MAGIC_HIGH,
  NBD_REP_MAGIC_LOW,
  NBD_REP_SERVER,
  NBD_SERVER_GREETING_BYTES,
  NBD_STRING_MAX_BYTES,
} from "./constants.js";
import { HandshakeReader, NbdClientError, writeOption } from "./client-socket.js";
import { readUInt64 } from "./wire.js";

export { connectSocket, HandshakeReader, NbdClientError, SocketInput, type NbdClientErrorCode } from "./client-socket.js";

/**
 * Largest option reply the client accepts: a REP_SERVER or REP_INFO carries
 * at most a 4096-byte string and a little more; anything bigger is a broken
 * or hostile server.
 */
const optionReplyMaxBytes = 4 * NBD_STRING_MAX_BYTES;

/** What NBD_OPT_GO (or EXPORT_NAME) told us about the export. */
export interface NegotiatedExport {
  readonly sizeBytes: number;
  readonly transmissionFlags: number;
  readonly blockSizeMinimumBytes: number;
  readonly blockSizePreferredBytes: number;
  readonly blockSizeMaximumBytes: number;
}


/** Reads the greeting and sends client flags; true when fixed newstyle. */
export async function greet(reader: HandshakeReader): Promise<{ fixedNewstyle: boolean; noZeroes: boolean }> {
  const greeting = await reader.read(NBD_SERVER_GREETING_BYTES);
  if (
    greeting.readUInt32BE(0) !== NBD_INIT_PASSWD_HIGH ||
    greeting.readUInt32BE(4) !== NBD_INIT_PASSWD_LOW ||
    greeting.readUInt32BE(8) !== NBD_OPTS_MAGIC_HIGH ||
    greeting.readUInt32BE(12) !== NBD_OPTS_MAGIC_LOW
  ) {
    throw protocolError(reader, "not a newstyle NBD server (bad greeting magic)");
  }
  const handshakeFlags = greeting.readUInt16BE(16);
  const fixedNewstyle = (handshakeFlags & NBD_FLAG_FIXED_NEWSTYLE) !== 0;
  // proto.md: a client MUST NOT set NO_ZEROES unless the server did.
  let clientFlags = fixedNewstyle ? NBD_FLAG_C_FIXED_NEWSTYLE : 0;
  if ((handshakeFlags & NBD_FLAG_NO_ZEROES) !== 0) clientFlags |= NBD_FLAG_C_NO_ZEROES;
  const flags = Buffer.allocUnsafe(4);
  flags.writeUInt32BE(clientFlags, 0);
  reader.write(flags);
  return { fixedNewstyle, noZeroes: (clientFlags & NBD_FLAG_C_NO_ZEROES) !== 0 };
}

export function sendOption(reader: HandshakeReader, option: number, data: Buffer): void {
  writeOption(reader.socket, option, data);
}


interface OptionReply {
  readonly replyType: number;
  readonly data: Buffer;
}

export async function readOptionReply(reader: HandshakeReader, option: number): Promise<OptionReply> {
  const header = await reader.read(NBD_OPTION_REPLY_HEADER_BYTES);
  if (header.readUInt32BE(0) !== NBD_REP_MAGIC_HIGH || header.readUInt32BE(4) !== NBD_REP_MAGIC_LOW) {
    throw protocolError(reader, "option reply without the reply magic");
  }
  if (header.readUInt32BE(8) !== option) throw protocolError(reader, `reply to option ${header.readUInt32BE(8)}, expected ${option}`);
  const replyType = header.readUInt32BE(12);
  const dataBytes = header.readUInt32BE(16);
  if (dataBytes > optionReplyMaxBytes) throw protocolError(reader, `option reply of ${dataBytes} bytes`);
  const data = dataBytes === 0 ? Buffer.alloc(0) : await reader.read(dataBytes);
  return { replyType, data };
}

/** NBD_OPT_GO for `exportName`, requesting block sizes; undefined if the server lacks GO. */
export async function optionGo(reader: HandshakeReader, exportName: string): Promise<NegotiatedExport | undefined> {
  const name = Buffer.from(exportName, "utf8");
  const data = Buffer.allocUnsafe(4 + name.length + 2 + 2);
  data.writeUInt32BE(name.length, 0);
  name.copy(data, 4);
  data.writeUInt16BE(1, 4 + name.length);
  data.writeUInt16BE(NBD_INFO_BLOCK_SIZE, 4 + name.length + 2);
  sendOption(reader, NBD_OPT_GO, data);
  let exportInfo: { sizeBytes: number; transmissionFlags: number } | undefined;
  // proto.md defaults when the server sends no NBD_INFO_BLOCK_SIZE.
  let blockSizes = { minimum: 1, preferred: 4096, maximum: 0xffffffff };
  for (;;) {
    const reply = await readOptionReply(reader, NBD_OPT_GO);
    if (reply.replyType === NBD_REP_INFO) {
      if (reply.data.length < 2) throw protocolError(reader, "NBD_REP_INFO shorter than 2 bytes");
      const infoType = reply.data.readUInt16BE(0);
      if (infoType === NBD_INFO_EXPORT && reply.data.length === NBD_INFO_EXPORT_BYTES) {
        exportInfo = { sizeBytes: readUInt64(reply.data, 2), transmissionFlags: reply.data.readUInt16BE(10) };
      } else if (infoType === NBD_INFO_BLOCK_SIZE && reply.data.length === NBD_INFO_BLOCK_SIZE_BYTES) {
        blockSizes = { minimum: reply.data.readUInt32BE(2), preferred: reply.data.readUInt32BE(6), maximum: reply.data.readUInt32BE(10) };
      }
      // Other information types are ignored, as proto.md requires.
      continue;
    }
    if (reply.replyType === NBD_REP_ACK) {
      if (exportInfo === undefined) throw protocolError(reader, "NBD_OPT_GO acknowledged without NBD_INFO_EXPORT");
      return {
        ...exportInfo,
        blockSizeMinimumBytes: blockSizes.minimum,
        blockSizePreferredBytes: blockSizes.preferred,
        blockSizeMaximumBytes: blockSizes.maximum,
      };
    }
    if (reply.replyType === NBD_REP_ERR_UNSUP) return undefined;
    throw optionError(reader, reply, `export "${exportName}"`);
  }
}

/** NBD_OPT_EXPORT_NAME: the old way in, for servers without NBD_OPT_GO. */
export async function optionExportName(reader: HandshakeReader, exportName: string, noZeroes: boolean): Promise<NegotiatedExport> {
  sendOption(reader, NBD_OPT_EXPORT_NAME, Buffer.from(exportName, "utf8"));
  let reply: Buffer;
  try {
    reply = await reader.read(NBD_EXPORT_NAME_REPLY_BYTES + (noZeroes ? 0 : NBD_EXPORT_NAME_REPLY_ZEROES_BYTES));
  } catch (error) {
    // proto.md: the server's only way to refuse EXPORT_NAME is to hang up.
    if (error instanceof NbdClientError && error.code === "CLOSED") {
      throw new NbdClientError("UNKNOWN_EXPORT", `server closed the connection on export "${exportName}"`, { cause: error });
    }
    throw error;
  }
  return {
    sizeBytes: readUInt64(reply, 0),
    transmissionFlags: reply.readUInt16BE(8),
    blockSizeMinimumBytes: 1,
    blockSizePreferredBytes: 4096,
    blockSizeMaximumBytes: 0xffffffff,
  };
}

export interface NbdExportEntry {
  readonly name: string;
  readonly description: string;
}

/** NBD_OPT_LIST, then NBD_OPT_ABORT (a soft disconnect). */
export async function optionList(reader: HandshakeReader): Promise<NbdExportEntry[]> {
  sendOption(reader, NBD_OPT_LIST, Buffer.alloc(0));
  const entries: NbdExportEntry[] = [];
  for (;;) {
    const reply = await readOptionReply(reader, NBD_OPT_LIST);
    if (reply.replyType === NBD_REP_ACK) break;
    if (reply.replyType !== NBD_REP_SERVER) throw optionError(reader, reply, "export list");
    if (reply.data.length < 4) throw protocolError(reader, "NBD_REP_SERVER shorter than 4 bytes");
    const nameBytes = reply.data.readUInt32BE(0);
    if (nameBytes > reply.data.length - 4) throw protocolError(reader, "NBD_REP_SERVER name longer than its reply");
    entries.push({
      name: reply.data.toString("utf8", 4, 4 + nameBytes),
      description: reply.data.toString("utf8", 4 + nameBytes),
    });
  }
  sendOption(reader, NBD_OPT_ABORT, Buffer.alloc(0));
  // proto.md: the server SHOULD ACK the abort but may just close; either is fine.
  await readOptionReply(reader, NBD_OPT_ABORT).catch(() => undefined);
  return entries;
}

function optionError(reader: HandshakeReader, reply: OptionReply, subject: string): NbdClientError {
  const message = reply.data.toString("utf8");
  const isError = (reply.replyType & NBD_REP_FLAG_ERROR) !== 0;
  const code = reply.replyType === NBD_REP_ERR_UNKNOWN ? "UNKNOWN_EXPORT" : reply.replyType === NBD_REP_ERR_TLS_REQD ? "TLS_REQUIRED" : isError ? "REFUSED" : "PROTOCOL";
  const error = new NbdClientError(
    code,
    `${subject}: server replied 0x${reply.replyType.toString(16)}${message === "" ? "" : `: ${message}`}`,
    { optionReply: reply.replyType },
  );
  reader.fail(error, isError);
  return error;
}

function protocolError(reader: HandshakeReader, message: string): NbdClientError {
  const error = new NbdClientError("PROTOCOL", message);
  reader.fail(error);
  return error;
}
