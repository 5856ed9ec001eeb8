// Goal: a GuardedServer caps open connections and TLS handshakes in
// progress, drops a handshake that does not finish in time, frees each slot
// when its connection ends, still hands every verified caller's certificate
// to the handlers, and stops listening when shut down.
// Method: real certificates from openssl (makeTestPki), a real grpc-js
// client over loopback, raw TCP sockets for peers that never finish a
// handshake, and small limits so each cap is reached with a few sockets.
import * as grpc from "@grpc/grpc-js";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTlsMaterial } from "./grpc-credentials.js";
import { GuardedServer } from "./guarded-server.js";
import type { ConnectionLimits } from "./connection-gate.js";
import { listenOnLoopback, makeTestPki, type TestPki } from "./testing.js";

const limits: ConnectionLimits = { connectionsMax: 3, handshakesMax: 2, handshakeTimeoutMs: 500 };
/** Well above the handshake timeout on a loaded machine. */
const droppedWithinMs = 5_000;
const callDeadlineMs = 10_000;

const whoAmI: grpc.MethodDefinition<string, string> = {
  path: "/switchyard.test.Guarded/WhoAmI",
  requestStream: false,
  responseStream: false,
  requestSerialize: (value: string) => Buffer.from(value),
  requestDeserialize: (bytes: Buffer) => bytes.toString("utf8"),
  responseSerialize: (value: string) => Buffer.from(value),
  responseDeserialize: (bytes: Buffer) => bytes.toString("utf8"),
};
const GuardedClient = grpc.makeGenericClientConstructor({ WhoAmI: whoAmI }, "Guarded");

let pki: TestPki;
let server: GuardedServer;
let address: string;

beforeAll(async () => {
  pki = await makeTestPki();
  server = new GuardedServer({}, limits);
  server.addService({ WhoAmI: whoAmI }, {
    WhoAmI: (call: grpc.ServerUnaryCall<string, string>, callback: grpc.sendUnaryData<string>) => {
      const subject = call.getAuthContext().sslPeerCertificate?.subject.CN;
      callback(null, typeof subject === "string" ? subject : "nobody");
    },
  });
  address = await listenOnLoopback(server, readTlsMaterial(pki.folder({ role: "device", id: "dev0" }), "server"));
}, 60_000);

afterAll(async () => {
  server.forceShutdown();
  await pki.remove();
});

/** A client on a connection of its own (no subchannel shared with other clients). */
function operatorClient(): grpc.Client {
  return new GuardedClient(address, pki.credentials({ role: "operator", id: "admin" }), { "grpc.use_local_subchannel_pool": 1 });
}

/** `waitForReady`: wait for a channel that was refused to connect again, instead of failing at once. */
function whoAmIVia(client: grpc.Client, waitForReady = false): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(whoAmI.path, whoAmI.requestSerialize, whoAmI.responseDeserialize, "who", new grpc.Metadata({ waitForReady }), { deadline: Date.now() + callDeadlineMs }, (error, answer) => {
      if (error !== null || answer === undefined) reject(error ?? new Error("no answer"));
      else resolve(answer);
    });
  });
}

/** A TCP connection that never starts its handshake; resolves once connected, with a promise of its close. */
async function silentPeer(): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const [host = "", port = ""] = address.split(":");
  const socket = net.connect(Number(port), host);
  const closed = new Promise<void>((resolve) => socket.once("close", () => { resolve(); }));
  socket.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, closed };
}

async function eventually(condition: () => boolean, withinMs: number): Promise<void> {
  const startedMs = performance.now();
  while (!condition()) {
    if (performance.now() - startedMs > withinMs) throw new Error(`not true within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("a guarded gRPC server", { timeout: 30_000 }, () => {
  it("hands the caller's verified certificate to the handler", async () => {
    const client = operatorClient();
    await expect(whoAmIVia(client)).resolves.toContain("admin");
    client.close();
    await eventually(() => server.connectionCounts.open === 0, droppedWithinMs);
  });

  it("refuses a handshake beyond the cap at once, drops the silent ones at the timeout, then serves again", async () => {
    const refusedBefore = server.connectionCounts.refused;
    const silent = [await silentPeer(), await silentPeer()];
    await eventually(() => server.connectionCounts.handshaking === 2, droppedWithinMs);
    const third = await silentPeer();
    await third.closed;
    expect(server.connectionCounts.refused).toBe(refusedBefore + 1);
    const startedMs = performance.now();
    await Promise.all(silent.map(({ closed }) => closed));
    const droppedAfterMs = performance.now() - startedMs;
    expect(droppedAfterMs).toBeLessThan(droppedWithinMs);
    await eventually(() => server.connectionCounts.open === 0 && server.connectionCounts.handshaking === 0, droppedWithinMs);
    const client = operatorClient();
    await expect(whoAmIVia(client)).resolves.toContain("admin");
    client.close();
  });

  it("refuses a connection beyond the cap, and takes one again when another ends", async () => {
    await eventually(() => server.connectionCounts.open === 0, droppedWithinMs);
    const clients = [operatorClient(), operatorClient(), operatorClient()];
    // One after another: at once, the third would find both handshake slots taken.
    for (const client of clients) await whoAmIVia(client);
    expect(server.connectionCounts).toMatchObject({ open: 3, handshaking: 0 });
    const fourth = operatorClient();
    await expect(whoAmIVia(fourth)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    clients[0]?.close();
    await eventually(() => server.connectionCounts.open === 2, droppedWithinMs);
    await expect(whoAmIVia(fourth, true)).resolves.toContain("admin");
    for (const client of [...clients, fourth]) client.close();
  });

  it("stops listening when shut down", async () => {
    const spare = new GuardedServer({}, limits);
    const spareAddress = await listenOnLoopback(spare, undefined);
    spare.forceShutdown();
    const [host = "", port = ""] = spareAddress.split(":");
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(port), host);
      socket.once("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.once("error", (error: NodeJS.ErrnoException) => { resolve(error.code ?? "error"); });
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});
