/**
 * Goal: NBD over TLS behaves as proto.md "TLS support" says in each mode
 * ("off" = NOTLS, "on" = SELECTIVETLS with no TLS-only export, "require" =
 * FORCEDTLS), and only clients holding a certificate of the server's CA get
 * in: the host is authenticated, not just the link encrypted.
 *
 * Method: real certificates made by openssl (makeTlsTestCertificates), a
 * real server on loopback serving memory exports, and either our NbdClient
 * with its `tls` option or a RawPeer that sends exact option bytes and
 * upgrades with startTls. Assertions are on option reply types, client
 * error codes, bytes read back, and the server closing connections.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NbdClient, NbdClientError, listExports, type NbdClientTls } from "./client.js";
import {
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_OPT_SET_META_CONTEXT,
  NBD_OPT_STARTTLS,
  NBD_OPT_STRUCTURED_REPLY,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_POLICY,
  NBD_REP_ERR_TLS_REQD,
  NBD_REP_INFO,
} from "./constants.js";
import { NbdError, type NbdExportProvider, type NbdPeer } from "./export.js";
import type { NbdServerLimits } from "./limits.js";
import { MemoryExportProvider } from "./memory-export.js";
import { RawPeer, goData, metaContextData } from "./raw-peer.js";
import { NbdServer } from "./server.js";
import type { NbdTlsMode } from "./tls-policy.js";
import { makeTlsTestCertificates, type TlsTestCertificates, type TlsTestIdentity } from "./tls-certificates.js";
import { waitForConnections } from "./testing.js";

const mebibyte = 1024 * 1024;
/** Short, so the silent peer's case takes a moment; TLS handshakes on loopback take milliseconds. */
const handshakeTimeoutMs = 1500;

let certificates: TlsTestCertificates;

beforeAll(async () => {
  certificates = await makeTlsTestCertificates();
}, 60_000);

afterAll(async () => {
  await certificates.remove();
});

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Fixture {
  readonly server: NbdServer;
  readonly provider: MemoryExportProvider;
  readonly port: number;
  readonly disconnects: string[];
  readonly errors: unknown[];
}

async function startServer(mode: NbdTlsMode, limits?: Partial<NbdServerLimits>, wrap?: (memory: MemoryExportProvider) => NbdExportProvider): Promise<Fixture> {
  const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: 8 * mebibyte, description: "test disk" }]);
  const disconnects: string[] = [];
  const errors: unknown[] = [];
  const { key, cert, ca } = certificates.server;
  const server = new NbdServer({
    provider: wrap === undefined ? provider : wrap(provider),
    port: 0,
    tls: mode === "off" ? { mode } : { mode, key, cert, ca },
    limits: { handshakeTimeoutMs, ...limits },
    onError: (error) => errors.push(error),
    onDisconnect: (reason) => disconnects.push(reason),
  });
  const { port } = await server.listen();
  cleanups.push(() => server.close());
  return { server, provider, port, disconnects, errors };
}

function clientTls(identity: TlsTestIdentity = certificates.client): NbdClientTls {
  // The CA that signed the server, whoever signed the client.
  return { ca: certificates.server.ca, cert: identity.cert, key: identity.key };
}

async function connect(fixture: Fixture, tls: NbdClientTls | undefined): Promise<NbdClient> {
  const client = await NbdClient.connect({ host: "127.0.0.1", port: fixture.port, exportName: "disk", timeoutMs: 5000, tls });
  cleanups.push(() => client.close());
  return client;
}

async function failureOf(operation: Promise<unknown>): Promise<NbdClientError> {
  const error = await operation.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof NbdClientError)) throw new Error(`expected an NbdClientError, got ${String(error)}`);
  return error;
}

/** A raw peer past the greeting, in fixed newstyle. */
async function haggling(fixture: Fixture): Promise<RawPeer> {
  const peer = await RawPeer.connect(fixture.port);
  cleanups.push(() => {
    peer.destroy();
  });
  await peer.greeting();
  peer.sendClientFlags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
  return peer;
}

/** A raw peer inside TLS, with the client certificate. */
async function hagglingInTls(fixture: Fixture): Promise<RawPeer> {
  const peer = await haggling(fixture);
  peer.sendOption(NBD_OPT_STARTTLS);
  expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_ACK);
  await peer.startTls({ ca: certificates.server.ca, cert: certificates.client.cert, key: certificates.client.key });
  return peer;
}

function pattern(lengthBytes: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(lengthBytes);
  for (let index = 0; index < lengthBytes; index += 1) data[index] = (index * 13 + seed) & 0xff;
  return data;
}

describe("NBD over TLS", () => {
  it("serves I/O inside TLS under require: big and small writes read back, flush, list", async () => {
    const fixture = await startServer("require");
    const client = await connect(fixture, clientTls());
    expect(client.sizeBytes).toBe(8 * mebibyte);
    const big = pattern(3 * mebibyte, 1);
    const small = Array.from({ length: 64 }, (_, index) => pattern(4096, index));
    await Promise.all([client.write(mebibyte, big), ...small.map((data, index) => client.write(index * 4096, data))]);
    await client.flush();
    const back = Buffer.alloc(big.length);
    await client.read(mebibyte, back);
    expect(back.equals(big)).toBe(true);
    expect(fixture.provider.dataOf("disk").subarray(0, 4096).equals(small[0] ?? Buffer.alloc(0))).toBe(true);
    const listed = await listExports({ host: "127.0.0.1", port: fixture.port, timeoutMs: 5000, tls: clientTls() });
    expect(listed.map((entry) => entry.name)).toEqual(["disk"]);
    expect(fixture.errors).toEqual([]);
  });

  it("refuses a plain client under require: TLS_REQD for options, EXPORT_NAME closes, ABORT is acknowledged", async () => {
    const fixture = await startServer("require");
    expect((await failureOf(connect(fixture, undefined))).code).toBe("TLS_REQUIRED");
    const peer = await haggling(fixture);
    for (const [option, data] of [
      [NBD_OPT_LIST, Buffer.alloc(0)],
      [NBD_OPT_INFO, goData("disk", [])],
      [NBD_OPT_GO, goData("disk", [])],
      [NBD_OPT_STRUCTURED_REPLY, Buffer.alloc(0)],
      [0x7fff_fff0, Buffer.alloc(10)],
    ] as const) {
      peer.sendOption(option, data);
      const reply = await peer.readOptionReply();
      expect([reply.option, reply.replyType]).toEqual([option, NBD_REP_ERR_TLS_REQD]);
    }
    peer.sendOption(NBD_OPT_ABORT);
    expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_ACK);
    const exportName = await haggling(fixture);
    exportName.sendOption(NBD_OPT_EXPORT_NAME, Buffer.from("disk"));
    // proto.md: EXPORT_NAME cannot be refused with an error, so the session ends without a reply.
    expect((await exportName.expectClose()).length).toBe(0);
    expect(fixture.provider.openCount("disk")).toBe(0);
  });

  it("serves plain and TLS clients alike under on", async () => {
    const fixture = await startServer("on");
    const plain = await connect(fixture, undefined);
    const secured = await connect(fixture, clientTls());
    await plain.write(0, pattern(mebibyte, 2));
    const back = Buffer.alloc(mebibyte);
    await secured.read(0, back);
    expect(back.equals(pattern(mebibyte, 2))).toBe(true);
    await secured.write(mebibyte, pattern(4096, 3));
    const small = Buffer.alloc(4096);
    await plain.read(mebibyte, small);
    expect(small.equals(pattern(4096, 3))).toBe(true);
  });

  it("answers STARTTLS with ERR_POLICY under off, and a TLS client gives up", async () => {
    const fixture = await startServer("off");
    const peer = await haggling(fixture);
    peer.sendOption(NBD_OPT_STARTTLS);
    expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_ERR_POLICY);
    expect((await failureOf(connect(fixture, clientTls()))).code).toBe("TLS");
    // Still a working plain server.
    const plain = await connect(fixture, undefined);
    await plain.flush();
  });

  it("refuses a client certificate from another CA, and a client with none", async () => {
    const fixture = await startServer("require");
    const foreign = await failureOf(connect(fixture, clientTls(certificates.foreignClient)));
    expect(["TLS", "CLOSED"]).toContain(foreign.code);
    const none = await failureOf(connect(fixture, { ca: certificates.server.ca }));
    expect(["TLS", "CLOSED"]).toContain(none.code);
    expect(fixture.disconnects.filter((reason) => reason.startsWith("TLS handshake failed"))).toHaveLength(2);
    expect(fixture.provider.openCount("disk")).toBe(0);
  });

  it("refuses a server whose certificate the client's CA did not sign", async () => {
    const fixture = await startServer("require");
    const error = await failureOf(connect(fixture, { ...clientTls(), ca: certificates.foreignClient.ca }));
    expect(error.code).toBe("TLS");
  });

  it("refuses a second STARTTLS inside TLS with ERR_INVALID, and forgets options negotiated before TLS", async () => {
    const fixture = await startServer("on");
    const peer = await haggling(fixture);
    peer.sendOption(NBD_OPT_STRUCTURED_REPLY);
    expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_ACK);
    peer.sendOption(NBD_OPT_STARTTLS);
    expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_ACK);
    await peer.startTls({ ca: certificates.server.ca, cert: certificates.client.cert, key: certificates.client.key });
    peer.sendOption(NBD_OPT_STARTTLS);
    expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_ERR_INVALID);
    // proto.md: no negotiation state survives STARTTLS, so structured replies must be asked for again.
    peer.sendOption(NBD_OPT_SET_META_CONTEXT, metaContextData("disk", ["base:allocation"]));
    expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_ERR_INVALID);
    peer.sendOption(NBD_OPT_GO, goData("disk", []));
    expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_INFO);
  });

  it("tells the provider the client's verified certificate, and answers its EPERM refusal with ERR_POLICY", async () => {
    const peers: NbdPeer[] = [];
    const fixture = await startServer("on", undefined, (memory) => ({
      list: () => memory.list(),
      open: (name, peer) => {
        if (peer !== undefined) peers.push(peer);
        if (name === "forbidden") throw new NbdError("EPERM", "not for this certificate");
        return memory.open(name);
      },
    }));
    await connect(fixture, clientTls());
    await connect(fixture, undefined);
    expect(peers.map((peer) => [peer.tls, peer.certificateSubject?.CN])).toEqual([
      [true, "nbd-client"],
      [false, undefined],
    ]);
    const refused = await failureOf(NbdClient.connect({ host: "127.0.0.1", port: fixture.port, exportName: "forbidden", timeoutMs: 5000, tls: clientTls() }));
    expect([refused.code, refused.optionReply]).toEqual(["REFUSED", NBD_REP_ERR_POLICY]);
    expect(refused.message).toContain("not for this certificate");
  });

  it("drops a peer that goes silent after the STARTTLS ACK at the handshake timeout", async () => {
    const fixture = await startServer("require");
    const peer = await haggling(fixture);
    peer.sendOption(NBD_OPT_STARTTLS);
    expect((await peer.readOptionReply()).replyType).toBe(NBD_REP_ACK);
    const startedMs = performance.now();
    await peer.expectClose(handshakeTimeoutMs * 4);
    expect(performance.now() - startedMs).toBeGreaterThan(handshakeTimeoutMs * 0.8);
    expect(fixture.disconnects.some((reason) => reason.includes("handshake"))).toBe(true);
    await waitForConnections(fixture.server, 0);
  });

  it("counts connections in the TLS handshake under handshakesMax", async () => {
    const fixture = await startServer("require", { handshakesMax: 1 });
    const silent = await haggling(fixture);
    silent.sendOption(NBD_OPT_STARTTLS);
    expect((await silent.readOptionReply()).replyType).toBe(NBD_REP_ACK);
    const second = await RawPeer.connect(fixture.port);
    cleanups.push(() => {
      second.destroy();
    });
    expect((await second.expectClose()).length).toBe(0);
    silent.destroy();
    await waitForConnections(fixture.server, 0);
    const inTls = await hagglingInTls(fixture);
    inTls.sendOption(NBD_OPT_GO, goData("disk", []));
    expect((await inTls.readOptionReply()).replyType).toBe(NBD_REP_INFO);
  });
});
