/**
 * The device's LUs as NBD exports, one per LU, named by its id, for
 * apparatuses outside the device's process. Every connection to an LU
 * writes the same open file and a flush is an fdatasync of that file, so a
 * FLUSH on one connection covers writes completed on all of them:
 * multi-conn is safe (NBD proto.md, NBD_FLAG_CAN_MULTI_CONN).
 *
 * Fencing (claim 3): an apparatus names itself and its registration key in
 * the export name, `lu0;apparatus=a1;key=K`, and every request it sends is
 * checked against the device's registrations, so a fenced apparatus cannot
 * touch an area whatever its own state (a process resumed after SIGSTOP
 * with writes still queued, say). A plain `lu0` is an administrator's
 * connection (tools, tests) and is not checked.
 *
 * Over TLS (the device's NBD server serves with its node certificate and
 * requires client certificates of the cluster CA) the certificate says who
 * connects, and the export name must agree with it: an apparatus opens only
 * as itself (the key in the name stays the fencing token: it changes with
 * each registration), and only an operator (or a device) opens a plain
 * `lu0`. So a stolen key is worthless without that apparatus's certificate.
 */
import { DeviceError } from "./errors.js";
import type { LogicalUnit } from "./logical-unit.js";
import {
  NbdError,
  type AllocationExtent,
  type BlockIo,
  type NbdErrorCode,
  type NbdExport,
  type NbdExportListing,
  type NbdExportProvider,
  type NbdPeer,
  type WriteZeroesFlags,
} from "@switchyard/nbd";
import { identityOfSubject } from "@switchyard/security";
import type { StorageDevice } from "./storage-device.js";
import { parseExportName, type ApparatusIdentity } from "@switchyard/proto";

export function logicalUnitExports(device: StorageDevice): NbdExportProvider {
  const listing: readonly NbdExportListing[] = device.lus.map((lu) => ({
    name: lu.id,
    description: `${device.id}/${lu.id}: ${lu.areaCount} areas of ${lu.extentSizeBytes} bytes`,
  }));
  return {
    list: () => listing,
    open: (name, peer) => {
      const parsed = parseExportName(name);
      if (parsed === undefined) return undefined;
      const lu = device.lus.find((candidate) => candidate.id === parsed.luId);
      if (lu === undefined) return undefined;
      const identity = parsed.identity;
      const refusal = certificateRefusal(peer, identity);
      if (refusal !== undefined) throw new NbdError("EPERM", refusal);
      const admit = identity === undefined ? admitAll : () => device.ioRefusal(identity.apparatusId, identity.key);
      return new LogicalUnitExport(lu, admit);
    },
  };
}

const admitAll = (): undefined => undefined;

/**
 * Why the certificate of `peer` may not open an LU under `named` (the
 * apparatus the export name claims, or none for an administrator's plain
 * name); undefined when it may, or when the connection has no TLS (the
 * server's mode decides whether plain connections reach here at all).
 */
export function certificateRefusal(peer: NbdPeer | undefined, named: ApparatusIdentity | undefined): string | undefined {
  if (peer?.tls !== true) return undefined;
  const holder = peer.certificateSubject === undefined ? undefined : identityOfSubject(peer.certificateSubject);
  if (holder === undefined) return "the client certificate names no Switchyard identity";
  if (named === undefined) {
    return holder.role === "operator" || holder.role === "device" ? undefined : `a ${holder.role} certificate opens an LU only under its own apparatus name`;
  }
  if (holder.role === "apparatus" && holder.id === named.apparatusId) return undefined;
  return `the certificate of ${holder.role} ${holder.id} may not open LUs as apparatus ${named.apparatusId}`;
}

/** One connection's view of an LU: checks who may send, delegates, and maps device errors to NBD errnos. */
class LogicalUnitExport implements NbdExport {
  readonly name: string;
  readonly sizeBytes: number;
  readonly readOnly = false;
  readonly multiConn = true;
  private readonly lu: LogicalUnit;
  /** Why this connection's requests are refused now, if they are. */
  private readonly refusal: () => string | undefined;

  constructor(lu: LogicalUnit, refusal: () => string | undefined) {
    this.lu = lu;
    this.name = lu.id;
    this.sizeBytes = lu.sizeBytes;
    this.refusal = refusal;
  }

  /** Checked at each request, not at connect: a fence must stop the connections already open. */
  private refused(): Promise<never> | undefined {
    const reason = this.refusal();
    return reason === undefined ? undefined : Promise.reject(new NbdError("EPERM", reason));
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.refused() ?? this.lu.read(offsetBytes, into).catch(rethrowAsNbd);
  }

  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    return this.refused() ?? this.lu.write(offsetBytes, data, fua).catch(rethrowAsNbd);
  }

  flush(): Promise<void> {
    return this.refused() ?? this.lu.flushForHost().catch(rethrowAsNbd);
  }

  /** NBD proto.md: trim is advisory; nothing is freed, so there is nothing to make durable. */
  trim(offsetBytes: number, lengthBytes: number): Promise<void> {
    const problem = this.lu.rangeProblem(offsetBytes, lengthBytes);
    if (problem !== undefined) return Promise.reject(toNbdError(problem));
    return this.refused() ?? Promise.resolve();
  }

  /** Zeroes are written, never punched, so NO_HOLE is always honoured. */
  writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    return this.refused() ?? this.lu.writeZeroes(offsetBytes, lengthBytes, flags).catch(rethrowAsNbd);
  }

  allocation(offsetBytes: number, lengthBytes: number): Promise<readonly AllocationExtent[]> {
    return this.refused() ?? this.lu.allocation(offsetBytes, lengthBytes).catch(rethrowAsNbd);
  }

  close(): void {
    // The LU is shared by every connection and closed with the device.
  }
}

/**
 * An LU as an apparatus in the device's own process reaches it: the LU's
 * bytes, with the device's errors turned into the errnos the LU's NBD
 * export answers. The apparatus's NBD server answers EIO for any error that
 * is not an NbdError, so without this a full file system (NO_SPACE) reached
 * a host as EIO instead of ENOSPC.
 */
export function logicalUnitBlockIo(lu: LogicalUnit): BlockIo {
  return {
    sizeBytes: lu.sizeBytes,
    read: (offsetBytes, into) => lu.read(offsetBytes, into).catch(rethrowAsNbd),
    write: (offsetBytes, data, fua) => lu.write(offsetBytes, data, fua).catch(rethrowAsNbd),
    writeZeroes: (offsetBytes, lengthBytes, flags) => lu.writeZeroes(offsetBytes, lengthBytes, flags).catch(rethrowAsNbd),
    flush: () => lu.flush().catch(rethrowAsNbd),
    allocation: (offsetBytes, lengthBytes) => lu.allocation(offsetBytes, lengthBytes).catch(rethrowAsNbd),
  };
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
    case "MIRROR_NOT_IN_SYNC":
    case "STORE_CORRUPT":
    case "DEVICE_CORRUPT":
    case "DEVICE_FOLDER_CONFLICT":
    case "IO_FAILED":
    case "EXTERNAL_UNREACHABLE":
      return "EIO";
    default: {
      const unhandled: never = error.code;
      throw new Error(`no NBD errno for device error code ${String(unhandled)}`);
    }
  }
}
