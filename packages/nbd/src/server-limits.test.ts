/**
 * Goal (issue 17, item 6): one server keeps at most `handshakesMax`
 * connections in the handshake and `connectionsMax` in all; a connection
 * past either is closed before the greeting, the clients already served
 * are not disturbed, a slow handshake is dropped at its timeout, and a
 * freed place takes a new client.
 * Method: a real server on loopback with small limits, RawPeers that
 * connect and say nothing, and real NbdClients in transmission.
 */
import { afterEach, describe, expect, it } from "vitest";
import { NbdClient } from "./client.js";
import type { NbdServerLimits } from "./limits.js";
import { MemoryExportProvider } from "./memory-export.js";
import { RawPeer } from "./raw-peer.js";
import { NbdServer } from "./server.js";

const clientTimeoutMs = 5_000;
const opened: { close(): unknown }[] = [];
const disconnects: string[] = [];

afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
  disconnects.length = 0;
});

async function serverWith(limits: Partial<NbdServerLimits>): Promise<number> {
  const provider = new MemoryExportProvider([{ name: "disk", sizeBytes: 1 << 20 }]);
  const server = new NbdServer({ provider, port: 0, limits, onDisconnect: (reason) => disconnects.push(reason) });
  opened.push(server);
  return (await server.listen()).port;
}

async function silentPeer(port: number): Promise<RawPeer> {
  const peer = await RawPeer.connect(port);
  opened.push({ close: () => { peer.destroy(); } });
  return peer;
}

async function client(port: number): Promise<NbdClient> {
  const connected = await NbdClient.connect({ host: "127.0.0.1", port, exportName: "disk", timeoutMs: clientTimeoutMs });
  opened.push(connected);
  return connected;
}

describe("NbdServer connection limits", () => {
  it("closes a connection past handshakesMax before the greeting; transmitting clients and a freed place are unaffected", async () => {
    const port = await serverWith({ handshakesMax: 2, connectionsMax: 8 });
    const serving = await client(port);
    const first = await silentPeer(port);
    await first.greeting();
    const second = await silentPeer(port);
    await second.greeting();
    const third = await silentPeer(port);
    expect((await third.expectClose()).length).toBe(0);
    expect(disconnects).toEqual(["already 2 connections in the handshake (handshakesMax)"]);
    await serving.write(0, Buffer.from("still"));
    first.destroy();
    await expect.poll(async () => (await silentPeer(port)).greeting().then(() => true, () => false)).toBe(true);
  });

  it("closes a connection past connectionsMax", async () => {
    const port = await serverWith({ handshakesMax: 2, connectionsMax: 2 });
    await client(port);
    await client(port);
    await expect(client(port)).rejects.toThrow();
    expect(disconnects).toContain("already 2 connections, the most one server keeps (connectionsMax)");
  });

  it("drops a handshake that does not finish within handshakeTimeoutMs", async () => {
    const port = await serverWith({ handshakeTimeoutMs: 200 });
    const peer = await silentPeer(port);
    await peer.greeting();
    await peer.expectClose(2_000);
    expect(disconnects).toEqual(["handshake not finished within 200 ms"]);
  });
});
