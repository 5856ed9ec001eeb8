/**
 * The suite's own storage device, for `--launch` runs without `--device`:
 * a real Switchyard device (LUs, store, arbiter, fencing keys) in a temporary
 * folder, built from the device package's public API, with its Device and
 * health services on gRPC and its LUs on NBD. Its NBD exports can be made a
 * slow disk: while `writeDelayMs` is set, every write waits that long before
 * it lands, so that writes are still in flight when a Hold arrives (the
 * drain case), as on a busy array.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { StorageDevice, deviceServiceHandlers, logicalUnitExports } from "@switchyard/device";
import { NbdServer, type NbdExport, type NbdExportProvider, type WriteZeroesFlags } from "@switchyard/nbd";
import { bindGrpc, controlServerOptions, grpcShutdownGraceMs, loadGrpc, stopGrpc } from "@switchyard/proto";

/** Small and quick to create: 2 LUs of 16 areas of 1 MiB (the smallest extent a device allows). */
const luSizeBytes = 16 << 20;
const extentSizeBytes = 1 << 20;
const luCount = 2;

/** The slow-disk switch and what it has seen. */
export class SlowDisk {
  /** 0: writes land at once. */
  writeDelayMs = 0;
  /** Writes that have arrived and not landed yet. */
  writesInFlight = 0;
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

export async function startSuiteDevice(host: string): Promise<SuiteDevice> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchyard-conformance-"));
  const device = await StorageDevice.open({ dir, create: { deviceId: "conformance", luCount, luSizeBytes, extentSizeBytes } });
  const disk = new SlowDisk();
  const nbdServer = new NbdServer({ provider: slowExports(logicalUnitExports(device), disk), host, port: 0 });
  const nbd = await nbdServer.listen();
  const nbdAddress = `${host}:${nbd.port}`;
  // Apparatuses find each LU at the nbd_uri the store records, as in a real cluster.
  await device.publishNbdAddress(nbdAddress);
  const grpcServer = new grpc.Server(controlServerOptions);
  const addresses = { nbdAddress, grpcAddress: "", now: () => performance.timeOrigin + performance.now() };
  grpcServer.addService(loadGrpc().switchyard.v1.Device.service, deviceServiceHandlers(device, addresses));
  const port = await bindGrpc(grpcServer, host, 0);
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
