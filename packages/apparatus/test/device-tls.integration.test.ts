// Goal: an apparatus reaches the device's LUs over TLS with its node
// certificate, and the device knows it by that certificate: a valid
// certificate of another apparatus presenting this one's name and key (a
// stolen key) is refused, and so is a client without TLS.
// Method: a real device in a temporary folder, its LU exports served by
// NbdServer in "require" mode with the device's certificate from a test PKI
// (openssl, @switchyard/security/testing); NbdBackendSets with apparatus
// certificates write, read and ask block status through it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logicalUnitExports } from "@switchyard/device";
import { openTestDevice, temporaryFolder, type TemporaryFolder } from "@switchyard/device/testing";
import { NbdServer, type NbdClientTls } from "@switchyard/nbd";
import type { ConfigurationTable__Output } from "@switchyard/proto";
import { readTlsMaterial } from "@switchyard/security";
import { makeTestPki, type TestPki } from "@switchyard/security/testing";
import type { StorageDevice } from "@switchyard/device";
import { NbdBackendSet } from "../src/index.js";

const mebibyte = 1 << 20;
let pki: TestPki;
let folder: TemporaryFolder;
let device: StorageDevice;
let server: NbdServer;
let lu0: ConfigurationTable__Output["lus"][number];
let epoch: number;

function apparatusTls(id: string): NbdClientTls {
  const material = readTlsMaterial(pki.folder({ role: "apparatus", id }), "client");
  return { ca: material.ca, cert: material.certificate, key: material.key };
}

beforeAll(async () => {
  pki = await makeTestPki();
  folder = await temporaryFolder();
  device = await openTestDevice(folder.path);
  const material = readTlsMaterial(pki.folder({ role: "device", id: "dev0" }), "server");
  server = new NbdServer({
    provider: logicalUnitExports(device),
    host: "127.0.0.1",
    port: 0,
    tls: { mode: "require", key: material.key, cert: material.certificate, ca: material.ca },
  });
  const { port } = await server.listen();
  lu0 = { index: 0, id: "lu0", device_id: "dev0", size_bytes: 16 * mebibyte, extent_size_bytes: mebibyte, nbd_uri: `nbd://127.0.0.1:${port}/lu0`, external: false };
  epoch = (await device.arbiter.acquire("controller", "", 60_000, 0)).epoch;
  device.registerKey("a1", "key-a1", epoch);
}, 60_000);

afterAll(async () => {
  await server.close();
  await device.close();
  await folder.remove();
  await pki.remove();
});

describe("the device's LU exports over TLS", () => {
  it("serve an apparatus presenting its own certificate: write, read back, block status", async () => {
    const backends = new NbdBackendSet({ tls: apparatusTls("a1") });
    backends.identify({ apparatusId: "a1", key: "key-a1" });
    try {
      const lu = backends.backend(lu0);
      await lu.write(mebibyte, Buffer.alloc(8192, 0x3c), true);
      const back = Buffer.alloc(8192);
      await lu.read(mebibyte, back);
      expect(back.every((byte) => byte === 0x3c)).toBe(true);
      const onDevice = Buffer.alloc(8192);
      await device.lu("lu0").read(mebibyte, onDevice);
      expect(onDevice.equals(back)).toBe(true);
      expect((await lu.allocation?.(0, 2 * mebibyte))?.length ?? 0).toBeGreaterThan(0);
    } finally {
      await backends.close();
    }
  });

  it("refuse another apparatus's valid certificate presenting a1's name and key", async () => {
    const forged = new NbdBackendSet({ tls: apparatusTls("a0") });
    forged.identify({ apparatusId: "a1", key: "key-a1" });
    try {
      await expect(forged.backend(lu0).write(0, Buffer.alloc(512, 0x66), false)).rejects.toThrow(/apparatus a0 may not open LUs as apparatus a1/);
      const onDevice = Buffer.alloc(512);
      await device.lu("lu0").read(0, onDevice);
      expect(onDevice.every((byte) => byte === 0)).toBe(true);
    } finally {
      await forged.close();
    }
  });

  it("refuse an apparatus without TLS", async () => {
    const plain = new NbdBackendSet();
    plain.identify({ apparatusId: "a1", key: "key-a1" });
    try {
      await expect(plain.backend(lu0).read(0, Buffer.alloc(512))).rejects.toThrow(/requires TLS/);
    } finally {
      await plain.close();
    }
  });
});
