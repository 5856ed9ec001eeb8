/**
 * The raw NBD peer the spec-level cases send exact bytes with, and what
 * they share: the fixed newstyle greeting (upgraded with NBD_OPT_STARTTLS
 * when the run's hosts use TLS), option replies read to the final one,
 * and NBD errors compared by their code.
 */
import {
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_INIT_PASSWD,
  NBD_OPT_GO,
  NBD_OPT_STARTTLS,
  NBD_OPTS_MAGIC,
  NBD_REP_ACK,
  NBD_REP_INFO,
  NBD_REP_META_CONTEXT,
  NBD_REP_SERVER,
  NBD_SERVER_GREETING_BYTES,
  NbdClientError,
  NbdError,
  type NbdClientTls,
} from "@switchyard/nbd";
import { RawPeer, goData, type RawOptionReply } from "@switchyard/nbd/testing";
import { expectThat } from "../check.js";
import type { CaseContext } from "../context.js";

export function hexOf(value: number): string {
  return `0x${value.toString(16)}`;
}

/** Option replies up to and including the final one (ACK or an error). */
export async function optionReplies(peer: RawPeer, option: number): Promise<RawOptionReply[]> {
  const replies: RawOptionReply[] = [];
  for (;;) {
    const reply = await peer.readOptionReply();
    expectThat(reply.option === option, `a reply to option ${option} names option ${reply.option}`);
    replies.push(reply);
    if (reply.replyType !== NBD_REP_SERVER && reply.replyType !== NBD_REP_INFO && reply.replyType !== NBD_REP_META_CONTEXT) return replies;
  }
}

/** NBD_OPT_STARTTLS, then the TLS handshake with `tls` (proto.md "TLS support"). */
export async function startTls(context: CaseContext, peer: RawPeer, tls: NbdClientTls): Promise<void> {
  peer.sendOption(NBD_OPT_STARTTLS);
  const reply = await peer.readOptionReply();
  expectThat(reply.replyType === NBD_REP_ACK, `NBD_OPT_STARTTLS got reply ${hexOf(reply.replyType)}, expected NBD_REP_ACK`);
  await peer.startTls({ host: context.nbd.host, ca: tls.ca, ...(tls.cert === undefined ? {} : { cert: tls.cert }), ...(tls.key === undefined ? {} : { key: tls.key }) });
}

/** What a case passes to stay in plain text whatever the run's hosts do. */
export const plainText = "plain";

/** A raw connection past the greeting and the client flags; inside TLS when the run's hosts use it (or `tls` says so). */
export async function greeted(context: CaseContext, chosen: NbdClientTls | typeof plainText = context.hostTls ?? plainText): Promise<RawPeer> {
  const tls = chosen === plainText ? undefined : chosen;
  const peer = await RawPeer.connect(context.nbd.port, context.nbd.host);
  try {
    const greeting = await peer.read(NBD_SERVER_GREETING_BYTES);
    expectThat(greeting.readBigUInt64BE(0) === NBD_INIT_PASSWD, "the greeting does not start with NBDMAGIC");
    expectThat(greeting.readBigUInt64BE(8) === NBD_OPTS_MAGIC, "the greeting is not newstyle (no IHAVEOPT)");
    expectThat((greeting.readUInt16BE(16) & NBD_FLAG_FIXED_NEWSTYLE) !== 0, "the server does not offer fixed newstyle");
    peer.sendClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
    if (tls !== undefined) await startTls(context, peer, tls);
    return peer;
  } catch (error) {
    peer.destroy();
    throw error;
  }
}

/** A raw connection in transmission on `exportName` (NBD_OPT_GO acknowledged). */
export async function transmitting(context: CaseContext, exportName: string): Promise<RawPeer> {
  const peer = await greeted(context);
  try {
    peer.sendOption(NBD_OPT_GO, goData(exportName, []));
    expectThat((await optionReplies(peer, NBD_OPT_GO)).at(-1)?.replyType === NBD_REP_ACK, `NBD_OPT_GO of ${exportName} failed`);
    return peer;
  } catch (error) {
    peer.destroy();
    throw error;
  }
}

/** The code of an NBD request error or a refused connection, else the error as text. */
export function nbdCodeOf(error: unknown): string {
  if (error instanceof NbdError || error instanceof NbdClientError) return error.code;
  return String(error);
}

export async function expectNbdError(operation: Promise<unknown>, codes: string | readonly string[], what: string): Promise<void> {
  const accepted = typeof codes === "string" ? [codes] : codes;
  try {
    await operation;
  } catch (error) {
    const got = nbdCodeOf(error);
    expectThat(accepted.includes(got), `${what}: expected ${accepted.join(" or ")}, got ${got}`);
    return;
  }
  expectThat(false, `${what}: expected ${accepted.join(" or ")}, but it succeeded`);
}
