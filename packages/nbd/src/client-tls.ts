/**
 * The client side of NBD_OPT_STARTTLS (proto.md "TLS support", client-side
 * requirements): sent as the first option, so every later option travels
 * inside TLS; a refusal ends the session (a client that asked for TLS
 * SHOULD NOT go on without it), and after the ACK the socket is wrapped in
 * TLS, the server's certificate checked against the CA and its name.
 */
import { isIP } from "node:net";
import tls from "node:tls";
import { NBD_OPT_STARTTLS, NBD_REP_ACK } from "./constants.js";
import { NbdClientError, readOptionReply, sendOption, type HandshakeReader, type SocketInput } from "./client-handshake.js";
import { nbdTlsMinVersion } from "./server-tls.js";

/** TLS for NbdClient and listExports: the CA that signed the server, and the client's own certificate. */
export interface NbdClientTls {
  /** The CA (PEM) the server's certificate must chain to. */
  readonly ca: string | Buffer;
  /** The client's certificate and key (PEM); servers here require them. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** The name the server's certificate must carry; default the host dialled. */
  readonly servername?: string;
}

/**
 * Sends NBD_OPT_STARTTLS and upgrades the reader's socket; from then on the
 * reader and `input` speak through TLS. Fails with NbdClientError "TLS".
 */
export async function startTls(reader: HandshakeReader, input: SocketInput, settings: NbdClientTls, host: string, fixedNewstyle: boolean): Promise<void> {
  // proto.md: STARTTLS only after fixed newstyle was agreed.
  if (!fixedNewstyle) throw failTls(reader, "the server does not speak fixed newstyle, so it cannot start TLS", false);
  sendOption(reader, NBD_OPT_STARTTLS, Buffer.alloc(0));
  const reply = await readOptionReply(reader, NBD_OPT_STARTTLS);
  if (reply.replyType !== NBD_REP_ACK) {
    const message = reply.data.toString("utf8");
    throw failTls(reader, `the server refused NBD_OPT_STARTTLS (reply 0x${reply.replyType.toString(16)}${message === "" ? "" : `: ${message}`})`, true);
  }
  // proto.md: the server sends nothing after the ACK but TLS.
  if (reader.bufferedBytes > 0) throw failTls(reader, "the server sent plain data after acknowledging NBD_OPT_STARTTLS", false);
  const secured = tls.connect({
    socket: reader.socket,
    ca: settings.ca,
    cert: settings.cert,
    key: settings.key,
    // An IP address is checked against the certificate's IP entries, a name against its DNS entries.
    servername: settings.servername ?? (isIP(host) === 0 ? host : undefined),
    host,
    minVersion: nbdTlsMinVersion,
    rejectUnauthorized: true,
  });
  secured.on("data", (chunk: Buffer) => {
    input.handler(chunk);
  });
  reader.replaceSocket(secured);
  const connected = new Promise<void>((resolve) => {
    secured.once("secureConnect", resolve);
  });
  try {
    await Promise.race([connected, reader.failed]);
  } catch (error) {
    if (error instanceof NbdClientError && error.code === "TIMEOUT") throw error;
    throw new NbdClientError("TLS", `TLS handshake with ${host} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function failTls(reader: HandshakeReader, message: string, soft: boolean): NbdClientError {
  const error = new NbdClientError("TLS", message);
  reader.fail(error, soft);
  return error;
}
