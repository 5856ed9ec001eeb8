/**
 * The server side of fixed newstyle option haggling (proto.md "Handshake"):
 * greeting, client flags, then options until NBD_OPT_GO or
 * NBD_OPT_EXPORT_NAME picks an export, NBD_OPT_ABORT ends the session, or
 * the client breaks a MUST and is disconnected.
 *
 * It is synchronous: options are answered as soon as they are parsed, since
 * the provider's `list` and `open` are synchronous.
 *
 * TLS (proto.md "TLS support"): tls-policy.ts decides, per option, whether
 * TLS is required first; after the ACK of NBD_OPT_STARTTLS the connection
 * upgrades the socket (server.ts) and calls `resumeInTls`, and haggling
 * starts over inside TLS with no state carried from before.
 *
 * Default export: proto.md reserves the empty name for a "default" export
 * without defining it. Ours is the only export when the provider lists
 * exactly one; otherwise the empty name is passed to the provider, which may
 * open a default of its own or answer that there is none.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import {
  NBD_CLIENT_FLAGS_BYTES,
  NBD_EXPORT_NAME_REPLY_BYTES,
  NBD_EXPORT_NAME_REPLY_ZEROES_BYTES,
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_NO_ZEROES,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_BLOCK_SIZE_BYTES,
  NBD_INFO_DESCRIPTION,
  NBD_INFO_EXPORT,
  NBD_INFO_EXPORT_BYTES,
  NBD_INFO_NAME,
  NBD_INIT_PASSWD_HIGH,
  NBD_INIT_PASSWD_LOW,
  NBD_META_CONTEXT_BASE_ALLOCATION,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_OPT_LIST_META_CONTEXT,
  NBD_OPT_SET_META_CONTEXT,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_OPTION_HEADER_BYTES,
  NBD_OPTION_REPLY_HEADER_BYTES,
  NBD_OPTS_MAGIC_HIGH,
  NBD_OPTS_MAGIC_LOW,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_POLICY,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
  NBD_REP_META_CONTEXT,
  NBD_REP_MAGIC_HIGH,
  NBD_REP_MAGIC_LOW,
  NBD_REP_SERVER,
  NBD_SERVER_GREETING_BYTES,
  NBD_STRING_MAX_BYTES,
} from "./constants.js";
import { NbdError, type NbdExport, type NbdExportProvider, type NbdPeer } from "./export.js";
import { blockSizeMinimumBytes, blockSizePreferredBytes, errorMessageMaxBytes, type NbdServerLimits } from "./limits.js";
import { baseAllocationContextId, listedContexts, parseMetaContextRequest, selectsBaseAllocation } from "./meta-context.js";
import { infoString, metaContextReply, parseInfoRequest, transmissionFlagsOf } from "./handshake-wire.js";
import { tlsDecision, type NbdTlsMode } from "./tls-policy.js";
import { exportSizeAssert, truncatedUtf8, writeUInt64 } from "./wire.js";

/** What the handshake hands to the transmission phase. */
export interface HandshakeOutcome {
  readonly nbdExport: NbdExport;
  readonly structuredReplies: boolean;
  readonly transmissionFlags: number;
  /**
   * The id of `base:allocation` when the client selected it for this export
   * (NBD_OPT_SET_META_CONTEXT), else undefined: NBD_CMD_BLOCK_STATUS is refused.
   */
  readonly baseAllocationContextId: number | undefined;
  /** Bytes the client sent after the final option, for the transmission parser. */
  readonly leftover: Buffer;
}

export interface HandshakeHooks {
  readonly onTransmission: (outcome: HandshakeOutcome) => void;
  /** The session ends here; `reason` says why, for logs and tests. */
  readonly onDisconnect: (reason: string) => void;
  readonly onError: (error: unknown) => void;
  /** NBD_OPT_STARTTLS was acknowledged: upgrade the socket, then call resumeInTls. */
  readonly onStartTls: () => void;
}

const clientFlagsKnown = NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES;

export class ServerHandshake {
  private pending: Buffer = Buffer.alloc(0);
  private clientFlagsReceived = false;
  private noZeroes = false;
  private structuredReplies = false;
  /** The export whose `base:allocation` the last SET_META_CONTEXT selected, if it did. */
  private baseAllocationExport: string | undefined = undefined;
  private optionCount = 0;
  private finished = false;
  private fixedNewstyle = false;
  /** TLS was initiated: haggling goes on inside it. */
  private tlsActive = false;
  /** Between the ACK of NBD_OPT_STARTTLS and resumeInTls: nothing is parsed. */
  private upgrading = false;
  /** Who the client is, for the provider: its verified certificate once inside TLS. */
  private peer: NbdPeer = { tls: false, certificateSubject: undefined };
  /** Why the provider refused the last open to this peer (NbdError EPERM), if it did. */
  private openRefusal: string | undefined;

  constructor(
    private socket: Socket,
    private readonly provider: NbdExportProvider,
    private readonly limits: NbdServerLimits,
    private readonly tlsMode: NbdTlsMode,
    private readonly hooks: HandshakeHooks,
  ) {}

  /**
   * The socket is now `secured`, a TLS socket over the old one. proto.md:
   * no negotiation state from before STARTTLS survives it.
   */
  resumeInTls(secured: Socket, peer: NbdPeer): void {
    assert.ok(this.upgrading && !this.tlsActive, "resumeInTls without an upgrade under way");
    assert.ok(peer.tls, "a peer inside TLS");
    this.socket = secured;
    this.peer = peer;
    this.upgrading = false;
    this.tlsActive = true;
    this.structuredReplies = false;
    this.baseAllocationExport = undefined;
  }

  start(): void {
    const greeting = Buffer.allocUnsafe(NBD_SERVER_GREETING_BYTES);
    greeting.writeUInt32BE(NBD_INIT_PASSWD_HIGH, 0);
    greeting.writeUInt32BE(NBD_INIT_PASSWD_LOW, 4);
    greeting.writeUInt32BE(NBD_OPTS_MAGIC_HIGH, 8);
    greeting.writeUInt32BE(NBD_OPTS_MAGIC_LOW, 12);
    greeting.writeUInt16BE(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, 16);
    this.socket.write(greeting);
  }

  onData(chunk: Buffer): void {
    if (this.finished) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.parseOne()) {
      // Each turn consumed one message.
    }
  }

  /** Parses one message from `pending`; false when it needs more bytes. */
  private parseOne(): boolean {
    if (this.finished || this.upgrading) return false;
    if (!this.clientFlagsReceived) {
      if (this.pending.length < NBD_CLIENT_FLAGS_BYTES) return false;
      const clientFlags = this.pending.readUInt32BE(0);
      this.consume(NBD_CLIENT_FLAGS_BYTES);
      // proto.md: the server MUST drop the connection on an unknown client flag.
      if ((clientFlags & ~clientFlagsKnown) !== 0) return this.disconnect(`unknown client flags 0x${clientFlags.toString(16)}`);
      this.clientFlagsReceived = true;
      this.fixedNewstyle = (clientFlags & NBD_FLAG_C_FIXED_NEWSTYLE) !== 0;
      this.noZeroes = (clientFlags & NBD_FLAG_C_NO_ZEROES) !== 0;
      return true;
    }
    if (this.pending.length < NBD_OPTION_HEADER_BYTES) return false;
    if (this.pending.readUInt32BE(0) !== NBD_OPTS_MAGIC_HIGH || this.pending.readUInt32BE(4) !== NBD_OPTS_MAGIC_LOW) {
      return this.disconnect("option without IHAVEOPT magic");
    }
    const option = this.pending.readUInt32BE(8);
    const payloadBytes = this.pending.readUInt32BE(12);
    // An oversized option is treated as the denial of service proto.md lets
    // a server hang up on, rather than buffered.
    if (payloadBytes > this.limits.optionPayloadMaxBytes) return this.disconnect(`option payload of ${payloadBytes} bytes`);
    if (this.pending.length < NBD_OPTION_HEADER_BYTES + payloadBytes) return false;
    const payload = this.pending.subarray(NBD_OPTION_HEADER_BYTES, NBD_OPTION_HEADER_BYTES + payloadBytes);
    this.consume(NBD_OPTION_HEADER_BYTES + payloadBytes);
    this.optionCount += 1;
    if (this.optionCount > this.limits.handshakeOptionsMax) return this.disconnect(`more than ${this.limits.handshakeOptionsMax} options`);
    this.handleOptionUnderTls(option, payload);
    return true;
  }

  /** Applies the TLS policy (tls-policy.ts) before the option itself. */
  private handleOptionUnderTls(option: number, payload: Buffer): void {
    const decision = tlsDecision({ mode: this.tlsMode, fixedNewstyle: this.fixedNewstyle, active: this.tlsActive }, option, payload.length);
    switch (decision.kind) {
      case "handle":
        this.handleOption(option, payload);
        return;
      case "refuse":
        this.sendError(option, decision.replyType, decision.message);
        return;
      case "disconnect":
        this.disconnect(decision.reason);
        return;
      case "upgrade":
        this.sendReply(option, NBD_REP_ACK);
        // proto.md: the client sends nothing until the reply; bytes already here would be read as plain text.
        if (this.pending.length > 0) {
          this.disconnect("data sent after NBD_OPT_STARTTLS before its reply");
          return;
        }
        this.upgrading = true;
        this.hooks.onStartTls();
        return;
    }
  }

  private handleOption(option: number, payload: Buffer): void {
    switch (option) {
      case NBD_OPT_EXPORT_NAME:
        this.handleExportName(payload);
        return;
      case NBD_OPT_GO:
      case NBD_OPT_INFO:
        this.handleInfoOrGo(option, payload);
        return;
      case NBD_OPT_LIST:
        this.handleList(payload);
        return;
      case NBD_OPT_ABORT:
        // proto.md: the server MUST reply with NBD_REP_ACK; the client then
        // drops the connection, and we close our side after the reply.
        this.sendReply(option, NBD_REP_ACK);
        this.finished = true;
        this.socket.end();
        this.hooks.onDisconnect("client sent NBD_OPT_ABORT");
        return;
      case NBD_OPT_LIST_META_CONTEXT:
      case NBD_OPT_SET_META_CONTEXT:
        this.handleMetaContext(option, payload);
        return;
      case NBD_OPT_STRUCTURED_REPLY:
        if (payload.length !== 0) {
      this.sendError(option, NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
      return;
    }
        if (this.structuredReplies) {
      this.sendError(option, NBD_REP_ERR_INVALID, "structured replies already negotiated");
      return;
    }
        this.structuredReplies = true;
        this.sendReply(option, NBD_REP_ACK);
        return;
      default:
        // Baseline: an unimplemented option gets NBD_REP_ERR_UNSUP, payload skipped.
        this.sendError(option, NBD_REP_ERR_UNSUP, `option ${option} is not supported`);
        return;
    }
  }

  /**
   * LIST or SET of metadata contexts (proto.md). A SET replaces the
   * selection even when it fails, and needs structured replies first; a
   * LIST is answered either way.
   */
  private handleMetaContext(option: number, payload: Buffer): void {
    if (option === NBD_OPT_SET_META_CONTEXT) this.baseAllocationExport = undefined;
    if (option === NBD_OPT_SET_META_CONTEXT && !this.structuredReplies) {
      this.sendError(option, NBD_REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT needs structured replies first");
      return;
    }
    const request = parseMetaContextRequest(payload);
    if (typeof request === "string") {
      this.sendError(option, NBD_REP_ERR_INVALID, request);
      return;
    }
    const nbdExport = this.openExport(request.exportName);
    if (nbdExport === undefined) {
      this.sendOpenFailure(option, request.exportName);
      return;
    }
    this.closeExport(nbdExport);
    if (option === NBD_OPT_LIST_META_CONTEXT) {
      // proto.md: the id in a LIST reply is reserved, SHOULD be zero.
      for (const context of listedContexts(request.queries)) this.sendReply(option, NBD_REP_META_CONTEXT, metaContextReply(0, context));
    } else if (selectsBaseAllocation(request.queries)) {
      this.baseAllocationExport = request.exportName;
      this.sendReply(option, NBD_REP_META_CONTEXT, metaContextReply(baseAllocationContextId, NBD_META_CONTEXT_BASE_ALLOCATION));
    }
    this.sendReply(option, NBD_REP_ACK);
  }

  private handleExportName(payload: Buffer): void {
    // proto.md: an unknown export after NBD_OPT_EXPORT_NAME cannot be
    // answered with an error, so the session MUST be terminated.
    if (payload.length > NBD_STRING_MAX_BYTES) {
      this.disconnect("NBD_OPT_EXPORT_NAME name too long");
      return;
    }
    const nbdExport = this.openExport(payload.toString("utf8"));
    if (nbdExport === undefined) {
      this.disconnect(this.openRefusal ?? "NBD_OPT_EXPORT_NAME for an unknown export");
      return;
    }
    const flags = transmissionFlagsOf(nbdExport, this.structuredReplies);
    const zeroesBytes = this.noZeroes ? 0 : NBD_EXPORT_NAME_REPLY_ZEROES_BYTES;
    const reply = Buffer.alloc(NBD_EXPORT_NAME_REPLY_BYTES + zeroesBytes);
    writeUInt64(reply, nbdExport.sizeBytes, 0);
    reply.writeUInt16BE(flags, 8);
    this.socket.write(reply);
    this.enterTransmission(nbdExport, flags, payload.toString("utf8"));
  }

  private handleInfoOrGo(option: number, payload: Buffer): void {
    const request = parseInfoRequest(payload);
    if (typeof request === "string") {
      this.sendError(option, NBD_REP_ERR_INVALID, request);
      return;
    }
    const nbdExport = this.openExport(request.name);
    if (nbdExport === undefined) {
      this.sendOpenFailure(option, request.name);
      return;
    }
    const flags = transmissionFlagsOf(nbdExport, this.structuredReplies);
    this.sendInfoReplies(option, nbdExport, flags, request.infoTypes);
    this.sendReply(option, NBD_REP_ACK);
    if (option === NBD_OPT_GO) {
      this.enterTransmission(nbdExport, flags, request.name);
    } else {
      this.closeExport(nbdExport);
    }
  }

  private sendInfoReplies(option: number, nbdExport: NbdExport, flags: number, infoTypes: ReadonlySet<number>): void {
    const exportInfo = Buffer.allocUnsafe(NBD_INFO_EXPORT_BYTES);
    exportInfo.writeUInt16BE(NBD_INFO_EXPORT, 0);
    writeUInt64(exportInfo, nbdExport.sizeBytes, 2);
    exportInfo.writeUInt16BE(flags, 10);
    this.sendReply(option, NBD_REP_INFO, exportInfo);
    if (infoTypes.has(NBD_INFO_NAME)) this.sendReply(option, NBD_REP_INFO, infoString(NBD_INFO_NAME, nbdExport.name));
    if (infoTypes.has(NBD_INFO_DESCRIPTION)) {
      const listing = this.provider.list().find((entry) => entry.name === nbdExport.name);
      this.sendReply(option, NBD_REP_INFO, infoString(NBD_INFO_DESCRIPTION, listing?.description ?? ""));
    }
    // Sent whether requested or not: our maximum is not the default
    // (unlimited), and proto.md says such a server SHOULD advertise it.
    const blockSize = Buffer.allocUnsafe(NBD_INFO_BLOCK_SIZE_BYTES);
    blockSize.writeUInt16BE(NBD_INFO_BLOCK_SIZE, 0);
    blockSize.writeUInt32BE(blockSizeMinimumBytes, 2);
    blockSize.writeUInt32BE(blockSizePreferredBytes, 6);
    blockSize.writeUInt32BE(this.limits.requestSizeMaxBytes, 10);
    this.sendReply(option, NBD_REP_INFO, blockSize);
  }

  private handleList(payload: Buffer): void {
    // proto.md: the server SHOULD reject NBD_OPT_LIST with data as invalid.
    if (payload.length !== 0) {
      this.sendError(NBD_OPT_LIST, NBD_REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
      return;
    }
    for (const entry of this.provider.list()) {
      const name = Buffer.from(entry.name, "utf8");
      const description = Buffer.from(entry.description, "utf8");
      const data = Buffer.allocUnsafe(4 + name.length + description.length);
      data.writeUInt32BE(name.length, 0);
      name.copy(data, 4);
      description.copy(data, 4 + name.length);
      this.sendReply(NBD_OPT_LIST, NBD_REP_SERVER, data);
    }
    this.sendReply(NBD_OPT_LIST, NBD_REP_ACK);
  }

  private openExport(name: string): NbdExport | undefined {
    const listing = this.provider.list();
    const resolvedName = name === "" && listing.length === 1 ? (listing[0]?.name ?? "") : name;
    let nbdExport: NbdExport | undefined;
    this.openRefusal = undefined;
    try {
      nbdExport = this.provider.open(resolvedName, this.peer);
    } catch (error) {
      if (error instanceof NbdError && error.code === "EPERM") {
        this.openRefusal = error.message;
        return undefined;
      }
      // A provider failure is ours, not the client's: report it, and tell
      // the client the export is not available.
      this.hooks.onError(error);
      return undefined;
    }
    if (nbdExport !== undefined) exportSizeAssert(nbdExport.sizeBytes);
    return nbdExport;
  }

  /** The reply to an open that failed: the provider's refusal of this peer, or no such export. */
  private sendOpenFailure(option: number, name: string): void {
    if (this.openRefusal !== undefined) this.sendError(option, NBD_REP_ERR_POLICY, this.openRefusal);
    else this.sendError(option, NBD_REP_ERR_UNKNOWN, `no export named "${name}"`);
  }

  private closeExport(nbdExport: NbdExport): void {
    try {
      nbdExport.close();
    } catch (error) {
      this.hooks.onError(error);
    }
  }

  /** `requestedName` is the name as the client sent it, compared with the one its SET_META_CONTEXT named. */
  private enterTransmission(nbdExport: NbdExport, transmissionFlags: number, requestedName: string): void {
    this.finished = true;
    const leftover = this.pending;
    this.pending = Buffer.alloc(0);
    // proto.md: BLOCK_STATUS only when the last SET named the export that was then chosen.
    const contextId = this.structuredReplies && this.baseAllocationExport === requestedName ? baseAllocationContextId : undefined;
    this.hooks.onTransmission({ nbdExport, structuredReplies: this.structuredReplies, transmissionFlags, baseAllocationContextId: contextId, leftover });
  }

  private sendError(option: number, replyType: number, message: string): void {
    this.sendReply(option, replyType, truncatedUtf8(message, errorMessageMaxBytes));
  }

  private sendReply(option: number, replyType: number, data?: Buffer): void {
    const dataBytes = data?.length ?? 0;
    const reply = Buffer.allocUnsafe(NBD_OPTION_REPLY_HEADER_BYTES + dataBytes);
    reply.writeUInt32BE(NBD_REP_MAGIC_HIGH, 0);
    reply.writeUInt32BE(NBD_REP_MAGIC_LOW, 4);
    reply.writeUInt32BE(option, 8);
    reply.writeUInt32BE(replyType, 12);
    reply.writeUInt32BE(dataBytes, 16);
    data?.copy(reply, NBD_OPTION_REPLY_HEADER_BYTES);
    this.socket.write(reply);
  }

  private consume(byteCount: number): void {
    this.pending = this.pending.subarray(byteCount);
  }

  private disconnect(reason: string): false {
    this.finished = true;
    this.socket.destroy();
    this.hooks.onDisconnect(reason);
    return false;
  }
}
