// Goal: an apparatus outside the device's process reaches the LUs over the
// device's NBD exports, with the same bytes as the LU files, and rides over a
// restart of the device's NBD server; once it has presented its identity,
// the device refuses its I/O from the moment it is fenced. Method: a real device in a temporary
// folder, its LUs served by NbdServer on loopback, an apparatus with an
// NbdBackendSet, and a real NBD client (our own) against the apparatus.
import { afterEach, describe, expect, it } from "vitest";
import { logicalUnitExports } from "@switchyard/device";
import { NbdClient, NbdServer } from "@switchyard/nbd";
import { openTestDevice, temporaryFolder, type TemporaryFolder } from "@switchyard/device/testing";
import type { ConfigurationTable__Output } from "@switchyard/proto";
import { NbdBackendSet, VirtualizationApparatus, serveApparatus, type ServedApparatus } from "../src/index.js";

const mebibyte = 1 << 20;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function table(nbdAddress: string): ConfigurationTable__Output {
  const lu = (index: number): ConfigurationTable__Output["lus"][number] => ({
    index,
    id: `lu${index}`,
    device_id: "test-device",
    size_bytes: 16 * mebibyte,
    extent_size_bytes: mebibyte,
    nbd_uri: `nbd://${nbdAddress}/lu${index}`,
    external: false,
  });
  return {
    generation: 1,
    lus: [lu(0), lu(1)],
    volumes: [
      {
        name: "v",
        size_bytes: 2 * mebibyte,
        extent_size_bytes: mebibyte,
        extents: { lu_index: [1, 0], area_index: [3, 5], mirror_lu_index_plus_one: [], mirror_area_index: [], mirror_watermark_bytes: [] },
      },
    ],
  };
}

async function startDevice(folder: TemporaryFolder, port = 0) {
  const device = await openTestDevice(folder.path);
  const server = new NbdServer({ provider: logicalUnitExports(device), host: "127.0.0.1", port });
  const address = await server.listen();
  return { device, server, port: address.port };
}

describe("apparatus with NBD backends", () => {
  it("writes through to the device's LU files and reads them back", async () => {
    const folder = await temporaryFolder();
    cleanups.push(() => folder.remove());
    const { device, server, port } = await startDevice(folder);
    cleanups.push(async () => {
      await server.close();
      await device.close();
    });
    const apparatus = new VirtualizationApparatus({ id: "remote", backends: new NbdBackendSet() });
    await apparatus.loadTable(1, table(`127.0.0.1:${port}`));
    const served: ServedApparatus = await serveApparatus(apparatus, { host: "127.0.0.1", nbdPort: 0, grpcPort: 0 });
    cleanups.push(() => served.close());
    const [, nbdPort = "0"] = served.nbdAddress.split(":");
    const host = await NbdClient.connect({ host: "127.0.0.1", port: Number(nbdPort), exportName: "v" });
    cleanups.push(() => host.close());

    // 8 KiB across the boundary of extent 0 (lu1 area 3) and extent 1 (lu0 area 5).
    const data = Buffer.alloc(8192, 0x5a);
    await host.write(mebibyte - 4096, data, true);
    const onLu1 = Buffer.alloc(4096);
    await (device.lu("lu1")).read(4 * mebibyte - 4096, onLu1);
    const onLu0 = Buffer.alloc(4096);
    await (device.lu("lu0")).read(5 * mebibyte, onLu0);
    expect(onLu1.every((byte) => byte === 0x5a)).toBe(true);
    expect(onLu0.every((byte) => byte === 0x5a)).toBe(true);
    const back = Buffer.alloc(8192);
    await host.read(mebibyte - 4096, back);
    expect(back.equals(data)).toBe(true);
  });

  it("reconnects to the device after its NBD server restarts", async () => {
    const folder = await temporaryFolder();
    cleanups.push(() => folder.remove());
    const first = await startDevice(folder);
    const backends = new NbdBackendSet();
    cleanups.push(() => backends.close());
    const apparatus = new VirtualizationApparatus({ id: "remote", backends });
    await apparatus.loadTable(1, table(`127.0.0.1:${first.port}`));
    await apparatus.io.write("v", 0, Buffer.alloc(512, 0x11), true);
    await first.server.close();
    await first.device.close();
    // While the device is down, I/O fails with an NBD errno, not a crash.
    await expect(apparatus.io.read("v", 0, Buffer.alloc(512))).rejects.toMatchObject({ code: "EIO" });
    const second = await startDevice(folder, first.port);
    cleanups.push(async () => {
      await second.server.close();
      await second.device.close();
    });
    const back = Buffer.alloc(512);
    await apparatus.io.read("v", 0, back);
    expect(back.every((byte) => byte === 0x11)).toBe(true);
  });

  it("is refused by the device once fenced, whatever the apparatus itself believes", async () => {
    const folder = await temporaryFolder();
    cleanups.push(() => folder.remove());
    const { device, server, port } = await startDevice(folder);
    cleanups.push(async () => {
      await server.close();
      await device.close();
    });
    const lease = await device.arbiter.acquire("controller", "", 60_000, 0);
    device.registerKey("remote", "key-1", lease.epoch);
    const backends = new NbdBackendSet();
    backends.identify({ apparatusId: "remote", key: "key-1" });
    cleanups.push(() => backends.close());
    const lu0 = backends.backend(table(`127.0.0.1:${port}`).lus[0] as ConfigurationTable__Output["lus"][number]);
    await lu0.write(0, Buffer.alloc(4096, 0x11), false);
    device.fence("remote", lease.epoch);
    await expect(lu0.write(0, Buffer.alloc(4096, 0x22), false)).rejects.toMatchObject({ code: "EPERM" });
    const onDevice = Buffer.alloc(4096);
    await device.lu("lu0").read(0, onDevice);
    expect(onDevice.every((byte) => byte === 0x11)).toBe(true);
  });
});
