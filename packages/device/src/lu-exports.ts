/**
 * The device's LUs as NBD exports, one per LU, named by its id, for
 * apparatuses outside the device's process. Every connection to an LU
 * writes the same open file and a flush is an fdatasync of that file, so a
 * FLUSH on one connection covers writes completed on all of them:
 * multi-conn is safe (NBD proto.md, NBD_FLAG_CAN_MULTI_CONN).
 *
 * Registration keys (fencing) are not checked here yet: NBD carries no key,
 * and how a connection presents one (export name, TLS identity) is still open.
 */
import { DeviceError } from "./errors.js";
import type { LogicalUnit } from "./logical-unit.js";
import { NbdError, type NbdErrorCode, type NbdExport, type NbdExportListing, type NbdExportProvider, type WriteZeroesFlags } from "./nbd/export.js";
import type { StorageDevice } from "./storage-device.js";

export function logicalUnitExports(device: StorageDevice): NbdExportProvider {
  const listing: readonly NbdExportListing[] = device.lus.map((lu) => ({
    name: lu.id,
    description: `${device.id}/${lu.id}: ${lu.areaCount} areas of ${lu.extentSizeBytes} bytes`,
  }));
  return {
    list: () => listing,
    open: (name) => {
      const lu = device.lus.find((candidate) => candidate.id === name);
      return lu === undefined ? undefined : new LogicalUnitExport(lu);
    },
  };
}

/** One connection's view of an LU: delegates, and maps device errors to NBD errnos. */
class LogicalUnitExport implements NbdExport {
  readonly name: string;
  readonly sizeBytes: number;
  readonly readOnly = false;
  readonly multiConn = true;
  private readonly lu: LogicalUnit;

  constructor(lu: LogicalUnit) {
    this.lu = lu;
    this.name = lu.id;
    this.sizeBytes = lu.sizeBytes;
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.lu.read(offsetBytes, into).catch(rethrowAsNbd);
  }

  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    return this.lu.write(offsetBytes, data, fua).catch(rethrowAsNbd);
  }

  flush(): Promise<void> {
    return this.lu.flush().catch(rethrowAsNbd);
  }

  /** NBD proto.md: trim is advisory; nothing is freed, so there is nothing to make durable. */
  trim(offsetBytes: number, lengthBytes: number): Promise<void> {
    const problem = this.lu.rangeProblem(offsetBytes, lengthBytes);
    return problem === undefined ? Promise.resolve() : Promise.reject(toNbdError(problem));
  }

  /** Zeroes are written, never punched, so NO_HOLE is always honoured. */
  writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    return this.lu.writeZeroes(offsetBytes, lengthBytes, flags.fua).catch(rethrowAsNbd);
  }

  close(): void {
    // The LU is shared by every connection and closed with the device.
  }
}

function rethrowAsNbd(error: unknown): never {
  throw toNbdError(error);
}

/** The NBD errno for a device error; anything else is a real I/O failure (EIO). */
export function toNbdError(error: unknown): NbdError {
  if (!(error instanceof DeviceError)) return new NbdError("EIO", String(error), { cause: error });
  return new NbdError(nbdErrnoOf(error), error.message, { cause: error });
}

function nbdErrnoOf(error: DeviceError): NbdErrorCode {
  switch (error.code) {
    case "INVALID_ARGUMENT":
    case "OUT_OF_RANGE":
      return "EINVAL";
    case "NO_SPACE":
    case "LIMIT_EXCEEDED":
      return "ENOSPC";
    case "CLOSED":
      return "ESHUTDOWN";
    case "STALE_EPOCH":
    case "LEASE_NOT_HELD":
      return "EPERM";
    case "NOT_FOUND":
    case "STALE_SEQUENCE":
    case "STALE_GENERATION":
    case "STORE_CORRUPT":
    case "DEVICE_CORRUPT":
    case "DEVICE_FOLDER_CONFLICT":
    case "IO_FAILED":
      return "EIO";
    default: {
      const unhandled: never = error.code;
      throw new Error(`no NBD errno for device error code ${String(unhandled)}`);
    }
  }
}
