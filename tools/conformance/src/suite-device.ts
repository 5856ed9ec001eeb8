/**
 * The suite's own storage device, for `--launch` runs without `--device`:
 * a real Switchyard device (LUs, store, arbiter, fencing keys) in a temporary
 * folder, built from the device package's public API, with its Device and
 * health services on gRPC and its LUs on NBD. Its NBD exports can be made a
 * slow disk: while `writeDelayMs` is set, every write waits that long before
 * it lands, so that writes are still in flight when a Hold arrives (the
 * drain case), as on a busy array; and they count the FLUSHes each LU gets,
 * so that the flush cases can see which LUs a host's FLUSH reached. In a
 * run with TLS the device serves as `switchyard device serve --cert-dir`
 * does: mutual TLS on gRPC with each method checked, and its LUs over NBD
 * only inside TLS.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StorageDevice, authorizedDeviceHandlers, deviceServiceHandlers, logicalUnitExports } from "@switchyard/device";
import { NbdServer, type NbdExport, type NbdExportProvider, type NbdServerTls, type WriteZeroesFlags } from "@switchyard/nbd";
import { addStandardServices, controlServerOptions, grpcShutdownGraceMs, loadGrpc, stopGrpc } from "@switchyard/proto";
import { GuardedServer, nodeCredentials, readTlsMaterial } from "@switchyard/security";

/**
 * Quick to create (sparse files): 2 LUs of 32 areas of 1 MiB (the smallest
 * extent a device allows), room for the suite's long volume, which is
 * longer than NBD's 32 MiB payload limit and so spans both LUs.
 */
const luSizeBytes = 32 << 20;
const extentSizeBytes = 1 << 20;
const luCount = 2;

/** The slow-disk switch and what it has seen. */
export class SlowDisk {
  /** 0: writes land at once. */
  writeDelayMs = 0;
  /** Writes that have arrived and not landed yet. */
  writesInFlight = 0;
  /** FLUSHes each LU (by export name) has received. */
  readonly flushes = new Map<string, number>();
}

/** One connection's export, with writes delayed by the switch. */
class SlowExport implements NbdExport {
  readonly name: string;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  readonly multiConn: boolean;

  constructor(private readonly inner: NbdExport, private readonly disk: SlowDisk) {
    this.name = inner.name;
    this.sizeBytes = inner.sizeBytes;
    this.readOnly = inner.readOnly;
    this.multiConn = inner.multiConn;
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.inner.read(offsetBytes, into);
  }

  async write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    await this.delayed(() => this.inner.write(offsetBytes, data, fua));
  }

  flush(): Promise<void> {
    // An apparatus opens "lu0;apparatus=ID;key=KEY": counted under the LU's own name.
    const luId = this.name.split(";")[0] ?? this.name;
    this.disk.flushes.set(luId, (this.disk.flushes.get(luId) ?? 0) + 1);
    return this.inner.flush();
  }

  trim(offsetBytes: number, lengthBytes: number, fua: boolean): Promise<void> {
    return this.inner.trim(offsetBytes, lengthBytes, fua);
  }

  async writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    await this.delayed(() => this.inner.writeZeroes(offsetBytes, lengthBytes, flags));
  }

  close(): void {
    this.inner.close();
  }

  private async delayed(land: () => Promise<void>): Promise<void> {
    const delayMs = this.disk.writeDelayMs;
    if (delayMs === 0) {
      await land();
      return;
    }
    this.disk.writesInFlight += 1;
    try {
      await sleep(delayMs);
      await land();
    } finally {
      this.disk.writesInFlight -= 1;
    }
  }
}

function slowExports(inner: NbdExportProvider, disk: SlowDisk): NbdExportProvider {
  return {
    list: () => inner.list(),
    open: (name) => {
      const opened = inner.open(name);
      return opened === undefined ? undefined : new SlowExport(opened, disk);
    },
  };
}

export interface SuiteDevice {
  readonly grpcAddress: string;
  readonly disk: SlowDisk;
  close(): Promise<void>;
}

/** The LU exports' TLS: required with a certificate folder, as `device serve --cert-dir` has it. */
function luTls(tlsFolder: string | undefined): NbdServerTls {
  if (tlsFolder === undefined) return { mode: "off" };
  const material = readTlsMaterial(tlsFolder, "server");
  return { mode: "require", key: material.key, cert: material.certificate, ca: material.ca };
}

/** `tlsFolder`: the device's identity folder in a run with TLS. */
export async function startSuiteDevice(host: string, tlsFolder: string | undefined): Promise<SuiteDevice> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-conformance-"));
  const device = await StorageDevice.open({ dir, create: { deviceId: "conformance", luCount, luSizeBytes, extentSizeBytes } });
  const disk = new SlowDisk();
  const nbdServer = new NbdServer({ provider: slowExports(logicalUnitExports(device), disk), host, port: 0, tls: luTls(tlsFolder) });
  const nbd = await nbdServer.listen();
  const nbdAddress = `${host}:${nbd.port}`;
  // Apparatuses find each LU at the nbd_uri the store records, as in a real cluster.
  await device.publishNbdAddress(nbdAddress);
  const grpcServer = new GuardedServer(controlServerOptions);
  const addresses = { nbdAddress, grpcAddress: "", now: () => performance.timeOrigin + performance.now() };
  const service = loadGrpc().switchyard.v1.Device.service;
  const credentials = nodeCredentials(tlsFolder);
  grpcServer.addService(service, authorizedDeviceHandlers(credentials.secure, service, deviceServiceHandlers(device, addresses), () => device.leaseHolder()));
  await addStandardServices(grpcServer);
  const port = await grpcServer.listen(host, 0, credentials.serverTls);
  addresses.grpcAddress = `${host}:${port}`;
  return {
    grpcAddress: addresses.grpcAddress,
    disk,
    async close() {
      await nbdServer.close();
      await stopGrpc(grpcServer, grpcShutdownGraceMs);
      await device.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
