/**
 * The device's operating errors: each has a stable `code` string that callers
 * and the protocol edges (gRPC in device-service.ts, NBD in lu-exports.ts)
 * switch on, a message that says what was wrong, and the `cause` when there
 * is one. Broken invariants are not here: they are assertions.
 */

export type DeviceErrorCode =
  /** A request or parameter that can never succeed as given. */
  | "INVALID_ARGUMENT"
  /** An offset, length or index past the end of an LU or an area. */
  | "OUT_OF_RANGE"
  /** A named thing (an LU, a device folder) that does not exist. */
  | "NOT_FOUND"
  /** An epoch below the arbiter's highest: the writer has been deposed. */
  | "STALE_EPOCH"
  /** The caller does not hold the lease it claims (wrong holder, epoch, or expired). */
  | "LEASE_NOT_HELD"
  /** A store write based on a sequence that is no longer the current one. */
  | "STALE_SEQUENCE"
  /** A store delta whose diff is not based on the stored generation. */
  | "STALE_GENERATION"
  /** A named limit was exceeded (payload size, queue length, registrations). */
  | "LIMIT_EXCEEDED"
  /** The file system has no space left for a write. */
  | "NO_SPACE"
  /** Both configuration store slots are invalid: never silently reset. */
  | "STORE_CORRUPT"
  /** device.json or an LU file does not match what the device recorded. */
  | "DEVICE_CORRUPT"
  /** The folder holds files of a device that was never completely created. */
  | "DEVICE_FOLDER_CONFLICT"
  /** An I/O call failed; the errno is in `cause`. */
  | "IO_FAILED"
  /** The object was closed, or failed earlier and must be reopened. */
  | "CLOSED"
  /** A commit would switch an extent to a mirror destination that does not hold all its bytes. */
  | "MIRROR_NOT_IN_SYNC"
  /** An NBD server the device was asked to open (an external device) could not be reached or refused the export. */
  | "EXTERNAL_UNREACHABLE";

export class DeviceError extends Error {
  readonly code: DeviceErrorCode;
  constructor(code: DeviceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeviceError";
    this.code = code;
  }
}

export class InvalidArgumentError extends DeviceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_ARGUMENT", message, options);
    this.name = "InvalidArgumentError";
  }
}

export class OutOfRangeError extends DeviceError {
  constructor(message: string) {
    super("OUT_OF_RANGE", message);
    this.name = "OutOfRangeError";
  }
}

export class NotFoundError extends DeviceError {
  constructor(message: string) {
    super("NOT_FOUND", message);
    this.name = "NotFoundError";
  }
}

export class StaleEpochError extends DeviceError {
  readonly epoch: number;
  readonly highestEpoch: number;
  constructor(epoch: number, highestEpoch: number) {
    super("STALE_EPOCH", `stale epoch ${epoch} < ${highestEpoch}`);
    this.name = "StaleEpochError";
    this.epoch = epoch;
    this.highestEpoch = highestEpoch;
  }
}

export class LeaseNotHeldError extends DeviceError {
  constructor(message: string) {
    super("LEASE_NOT_HELD", message);
    this.name = "LeaseNotHeldError";
  }
}

export class StaleSequenceError extends DeviceError {
  readonly expectedSequence: number;
  readonly currentSequence: number;
  constructor(expectedSequence: number, currentSequence: number) {
    super(
      "STALE_SEQUENCE",
      `store sequence ${expectedSequence} is stale: the current sequence is ${currentSequence}; read again and retry`,
    );
    this.name = "StaleSequenceError";
    this.expectedSequence = expectedSequence;
    this.currentSequence = currentSequence;
  }
}

export class StaleGenerationError extends DeviceError {
  constructor(baseGeneration: number, storedGeneration: number) {
    super("STALE_GENERATION", `a diff from generation ${baseGeneration} does not apply to stored generation ${storedGeneration}`);
    this.name = "StaleGenerationError";
  }
}

export class MirrorNotInSyncError extends DeviceError {
  constructor(message: string) {
    super("MIRROR_NOT_IN_SYNC", message);
    this.name = "MirrorNotInSyncError";
  }
}

export class LimitExceededError extends DeviceError {
  constructor(message: string) {
    super("LIMIT_EXCEEDED", message);
    this.name = "LimitExceededError";
  }
}

export class StoreCorruptError extends DeviceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("STORE_CORRUPT", message, options);
    this.name = "StoreCorruptError";
  }
}

export class DeviceCorruptError extends DeviceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("DEVICE_CORRUPT", message, options);
    this.name = "DeviceCorruptError";
  }
}

export class DeviceFolderConflictError extends DeviceError {
  constructor(message: string) {
    super("DEVICE_FOLDER_CONFLICT", message);
    this.name = "DeviceFolderConflictError";
  }
}

export class ClosedError extends DeviceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CLOSED", message, options);
    this.name = "ClosedError";
  }
}

/** The errno of a Node.js system error, or undefined for anything else. */
export function errnoOf(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

/**
 * Wraps a failed file system call: ENOSPC and EDQUOT become NO_SPACE (the
 * caller can free space and retry), anything else IO_FAILED. `what` names
 * the operation and the file, for the message.
 */
export function ioError(what: string, cause: unknown): DeviceError {
  const errno = errnoOf(cause) ?? "unknown error";
  const code = errno === "ENOSPC" || errno === "EDQUOT" ? "NO_SPACE" : "IO_FAILED";
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DeviceError(code, `${what} failed: ${detail}`, { cause });
}
