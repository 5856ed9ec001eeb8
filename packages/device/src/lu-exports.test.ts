// Goal: each LU is an NBD export named by its id, advertised multi-conn,
// whose operations reach the LU file, and whose errors are the spec's errnos
// (EINVAL past the end, ESHUTDOWN once closed); an apparatus that names
// itself is refused (EPERM) once fenced or once its key was replaced, on
// connections already open too; over TLS the certificate must name the
// apparatus the export name claims (a forged name is refused at open).
// Method: the export provider over a real device in a temporary folder,
// called directly as the NBD server would; removed after each test.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apparatusExportName } from "@switchyard/proto";
import { logicalUnitExports, toNbdError } from "./lu-exports.js";
import { DeviceError } from "./errors.js";
import { NbdError, type NbdPeer } from "@switchyard/nbd";
import type { StorageDevice } from "./storage-device.js";
import { openTestDevice, temporaryFolder, type TemporaryFolder } from "./testing.js";

const mebibyte = 1 << 20;
let folder: TemporaryFolder;
let device: StorageDevice;

beforeEach(async () => {
  folder = await temporaryFolder();
  device = await openTestDevice(folder.path);
});

afterEach(async () => {
  await device.close().catch(() => undefined);
  await folder.remove();
});

/** A verified client certificate of `role` and `id`, as the NBD server hands it to the provider. */
function certificatePeer(role: string, id: string): NbdPeer {
  return { tls: true, certificateSubject: { O: "switchyard", OU: role, CN: id } };
}

describe("logicalUnitExports", () => {
  it("over TLS, opens an LU only under the apparatus its certificate names; plain names for operators only", async () => {
    const lease = await device.arbiter.acquire("controller", "", 1000, 0);
    device.registerKey("a1", "k1", lease.epoch);
    const provider = logicalUnitExports(device);
    const asA1 = apparatusExportName("lu0", { apparatusId: "a1", key: "k1" });
    // A forged name: a2's valid certificate presenting a1 and a1's key is refused at open.
    expect(() => provider.open(asA1, certificatePeer("apparatus", "a2"))).toThrow(expect.objectContaining({ code: "EPERM", message: expect.stringContaining("apparatus a2 may not open LUs as apparatus a1") as unknown }) as Error);
    const own = provider.open(asA1, certificatePeer("apparatus", "a1"));
    await own?.write(0, Buffer.alloc(512, 7), false);
    expect(() => provider.open("lu0", certificatePeer("apparatus", "a1"))).toThrow(NbdError);
    expect(() => provider.open("lu0", certificatePeer("viewer", "watcher"))).toThrow(NbdError);
    expect(() => provider.open("lu0", { tls: true, certificateSubject: { CN: "someone" } })).toThrow(/no Switchyard identity/);
    const operator = provider.open("lu0", certificatePeer("operator", "admin"));
    const into = Buffer.alloc(512);
    await operator?.read(0, into);
    expect(into.every((byte) => byte === 7)).toBe(true);
    // Without TLS nothing is asked of the certificate (the server's mode keeps plain clients out).
    expect(provider.open(asA1, { tls: false, certificateSubject: undefined })).toBeDefined();
  });

  it("lists one export per LU and opens them by id", () => {
    const provider = logicalUnitExports(device);
    expect(provider.list().map((listing) => listing.name)).toEqual(["lu0", "lu1"]);
    const lu1 = provider.open("lu1");
    expect(lu1).toMatchObject({ name: "lu1", sizeBytes: 16 * mebibyte, readOnly: false, multiConn: true });
    expect(provider.open("lu2")).toBeUndefined();
  });

  it("reads, writes, zeroes, trims and flushes through to the LU", async () => {
    const lu0 = logicalUnitExports(device).open("lu0");
    if (lu0 === undefined) throw new Error("lu0 is not exported");
    await lu0.write(8192, Buffer.alloc(8192, 0x33), true);
    await lu0.writeZeroes(12288, 1024, { fua: false, noHole: true });
    await lu0.trim(0, mebibyte, false);
    await lu0.flush();
    const into = Buffer.alloc(8192);
    await lu0.read(8192, into);
    expect(into.subarray(0, 4096).every((byte) => byte === 0x33)).toBe(true);
    expect(into.subarray(4096, 5120).every((byte) => byte === 0)).toBe(true);
    expect(into.subarray(5120).every((byte) => byte === 0x33)).toBe(true);
    const direct = Buffer.alloc(8192);
    await device.lu("lu0").read(8192, direct);
    expect(direct.equals(into)).toBe(true);
    lu0.close();
  });

  it("refuses an apparatus's requests from its fence on, and under a replaced key", async () => {
    const lease = await device.arbiter.acquire("controller", "", 1000, 0);
    device.registerKey("a1", "k1", lease.epoch);
    const provider = logicalUnitExports(device);
    const open = (key: string) => {
      const lu = provider.open(apparatusExportName("lu0", { apparatusId: "a1", key }));
      if (lu === undefined) throw new Error("lu0 is not exported under an identity");
      return lu;
    };
    const current = open("k1");
    const stale = open("k0");
    await current.write(0, Buffer.alloc(512, 1), false);
    await expect(stale.write(0, Buffer.alloc(512, 2), false)).rejects.toMatchObject({ code: "EPERM", message: expect.stringContaining("replaced") as unknown });
    device.fence("a1", lease.epoch);
    await expect(current.write(0, Buffer.alloc(512, 3), false)).rejects.toMatchObject({ code: "EPERM", message: expect.stringContaining("fenced") as unknown });
    await expect(current.read(0, Buffer.alloc(512))).rejects.toMatchObject({ code: "EPERM" });
    await expect(current.flush()).rejects.toMatchObject({ code: "EPERM" });
    // Nothing a refused request sent reached the LU; an administrator's plain connection still works.
    const plain = provider.open("lu0");
    const into = Buffer.alloc(512);
    await plain?.read(0, into);
    expect(into.every((byte) => byte === 1)).toBe(true);
    expect(provider.open("lu0;apparatus=a1")).toBeUndefined();
  });

  it("answers EINVAL past the end and ESHUTDOWN after the device closed", async () => {
    const lu0 = logicalUnitExports(device).open("lu0");
    if (lu0 === undefined) throw new Error("lu0 is not exported");
    const end = 16 * mebibyte;
    await expect(lu0.read(end - 1, Buffer.alloc(2))).rejects.toMatchObject({ name: "NbdError", code: "EINVAL" });
    await expect(lu0.write(end, Buffer.alloc(1), false)).rejects.toMatchObject({ code: "EINVAL" });
    await expect(lu0.trim(end, 1, false)).rejects.toMatchObject({ code: "EINVAL" });
    await expect(lu0.writeZeroes(end - 1, 4096, { fua: true, noHole: false })).rejects.toMatchObject({ code: "EINVAL" });
    await device.close();
    await expect(lu0.read(0, Buffer.alloc(512))).rejects.toMatchObject({ code: "ESHUTDOWN" });
  });

  it("maps a full disk to ENOSPC and anything unknown to EIO", () => {
    expect(toNbdError(new DeviceError("NO_SPACE", "full"))).toMatchObject({ code: "ENOSPC" });
    expect(toNbdError(new DeviceError("IO_FAILED", "bad sector"))).toMatchObject({ code: "EIO" });
    const unknown = toNbdError(new TypeError("bug"));
    expect(unknown).toBeInstanceOf(NbdError);
    expect(unknown.code).toBe("EIO");
  });
});
