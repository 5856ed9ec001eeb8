// Goal: an apparatus's FLUSH covers every device LU it has written through
// and every one the table names (issue 19 fencing gap): a new registration
// (a rejoin) closes the connections opened under the old key, and FLUSH used
// to cover only those opened since, skipping an LU whose acknowledged writes
// were not yet durable; and an LU it never reached may hold another
// apparatus's writes, or a mirror's on a destination the volume now maps.
// Method: the project's NBD server on loopback serving memory under the
// export names an apparatus presents, counting FLUSHes per name.
import { afterEach, describe, expect, it } from "vitest";
import { NbdServer } from "@switchyard/nbd";
import { MemoryExportProvider } from "@switchyard/nbd/testing";
import type { LogicalUnit__Output } from "@switchyard/proto";
import { NbdBackendSet } from "./nbd-backend.js";

const luBytes = 1024 * 1024;
const servers: NbdServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function deviceLu(index: number, port: number): LogicalUnit__Output {
  return { index, id: `lu${index}`, device_id: "dev0", size_bytes: luBytes, extent_size_bytes: luBytes, nbd_uri: `nbd://127.0.0.1:${port}/lu${index}`, external: false };
}

/** Memory exports of `names` on loopback; `flushed` lists the export of each FLUSH, in order. */
async function serveCountingFlushes(names: readonly string[]): Promise<{ flushed: string[]; port: number }> {
  const flushed: string[] = [];
  const provider = new MemoryExportProvider(names.map((name) => ({ name, sizeBytes: luBytes })), (info) => {
    if (info.operation === "flush") flushed.push(info.exportName);
    return undefined;
  });
  const server = new NbdServer({ provider, port: 0, host: "127.0.0.1" });
  const { port } = await server.listen();
  servers.push(server);
  return { flushed, port };
}

describe("FLUSH through a backend set over NBD", () => {
  it("reaches every device LU written through, also after a new registration closed the old connections", async () => {
    const { flushed, port } = await serveCountingFlushes(["k1", "k2"].flatMap((key) => [0, 1].map((index) => `lu${index};apparatus=a1;key=${key}`)));
    const set = new NbdBackendSet();
    set.identify({ apparatusId: "a1", key: "k1" });
    await set.backend(deviceLu(0, port)).write(0, Buffer.alloc(512, 1), false);
    await set.backend(deviceLu(1, port)).write(0, Buffer.alloc(512, 2), false);
    set.identify({ apparatusId: "a1", key: "k2" });
    await set.flushAll([]);
    expect(flushed.sort()).toEqual(["lu0;apparatus=a1;key=k2", "lu1;apparatus=a1;key=k2"]);
    await set.close();
  });

  it("reaches every device LU the table names, those it never wrote through too, once each, and no external one", async () => {
    const { flushed, port } = await serveCountingFlushes([0, 1, 2].map((index) => `lu${index};apparatus=a1;key=k1`));
    const set = new NbdBackendSet();
    set.identify({ apparatusId: "a1", key: "k1" });
    // Another apparatus wrote lu1, or a mirror wrote it as the destination of an extent this volume maps now.
    await set.backend(deviceLu(0, port)).write(0, Buffer.alloc(512, 1), false);
    const external: LogicalUnit__Output = { ...deviceLu(3, port), id: "ext1:disk", device_id: "ext1", nbd_uri: "nbd://127.0.0.1:1/unreachable", external: true };
    await set.flushAll([deviceLu(0, port), deviceLu(1, port), external]);
    expect(flushed.sort()).toEqual(["lu0;apparatus=a1;key=k1", "lu1;apparatus=a1;key=k1"]);
    await set.close();
  });
});
