/**
 * One read or write of an LU file in flight, pooled by its LU (logical-unit.ts):
 * the hot path's request object, split from the LU to keep each file to one job.
 */
import type { DeviceFiles } from "./device-files.js";
import { DeviceCorruptError, DeviceError, ioError } from "./errors.js";
import type { LuIoErrors } from "./lu-io-errors.js";

/** What a request needs of its LU. */
export interface RequestOwner {
  readonly fd: number;
  /** The file-I/O port the LU's file is open on. */
  readonly files: DeviceFiles;
  readonly id: string;
  readonly path: string;
  readonly sizeBytes: number;
  /** Where a failed request is counted, for the operator to learn which LU failed. */
  readonly ioErrors: LuIoErrors;
  /** Takes the request back once it finished. */
  release(request: LuRequest): void;
}

/** What an idle request points at: no caller's buffer is kept alive by the pool. */
const idleBuffer = Buffer.alloc(0);

/**
 * One read or write in flight, reused: its callbacks are bound once, so an
 * I/O costs one Promise and libuv's own request, no closures.
 */
export class LuRequest {
  readonly lu: RequestOwner;
  writing = false;
  buffer: Buffer = idleBuffer;
  doneBytes = 0;
  positionBytes = 0;
  /** A write's epoch (write-barriers.ts), handed back when it ends. */
  epoch = 0;
  resolve: () => void = noop;
  reject: (error: unknown) => void = noop;

  constructor(lu: RequestOwner) {
    this.lu = lu;
  }

  /** Back to idle, for the pool: it holds no buffer or promise between uses. */
  reset(): void {
    this.buffer = idleBuffer;
    this.resolve = noop;
    this.reject = noop;
  }

  readonly executor = (resolve: () => void, reject: (error: unknown) => void): void => {
    this.resolve = resolve;
    this.reject = reject;
    this.issue();
  };

  issue(): void {
    const length = this.buffer.length - this.doneBytes;
    const position = this.positionBytes + this.doneBytes;
    if (this.writing) this.lu.files.write(this.lu.fd, this.buffer, this.doneBytes, length, position, this.onDone);
    else this.lu.files.read(this.lu.fd, this.buffer, this.doneBytes, length, position, this.onDone);
  }

  /**
   * Does the whole request now, on this thread; returns the failure, if any.
   * The same loop and the same errors as the asynchronous path.
   */
  runSync(): DeviceError | undefined {
    while (this.doneBytes < this.buffer.length) {
      const length = this.buffer.length - this.doneBytes;
      const position = this.positionBytes + this.doneBytes;
      let bytes: number;
      try {
        bytes = this.writing
          ? this.lu.files.writeSync(this.lu.fd, this.buffer, this.doneBytes, length, position)
          : this.lu.files.readSync(this.lu.fd, this.buffer, this.doneBytes, length, position);
      } catch (error) {
        return this.failed(error as NodeJS.ErrnoException);
      }
      if (bytes === 0) return this.nothingDone();
      this.doneBytes += bytes;
    }
    return undefined;
  }

  // Regular files return short counts only at the end of the file or on a
  // full disk: loop, and the next call reports the cause.
  readonly onDone = (error: NodeJS.ErrnoException | null, bytes: number): void => {
    if (error === null && bytes > 0 && this.doneBytes + bytes < this.buffer.length) {
      this.doneBytes += bytes;
      this.issue();
      return;
    }
    const { resolve, reject } = this;
    if (error === null && bytes > 0) {
      this.lu.release(this);
      resolve();
      return;
    }
    const failure = error === null ? this.nothingDone() : this.failed(error);
    this.lu.release(this);
    reject(failure);
  };

  private failed(error: NodeJS.ErrnoException): DeviceError {
    const position = this.positionBytes + this.doneBytes;
    return this.counted(ioError(`${this.writing ? "writing" : "reading"} ${this.lu.id} at ${position}`, error));
  }

  /** A read of 0 bytes inside the checked range: the file was shortened behind our back. */
  private nothingDone(): DeviceError {
    if (this.writing) return this.counted(new DeviceError("IO_FAILED", `${this.lu.id}: a write to ${this.lu.path} wrote nothing`));
    return this.counted(new DeviceCorruptError(`${this.lu.id}: ${this.lu.path} ends before ${this.lu.sizeBytes} bytes`));
  }

  private counted(failure: DeviceError): DeviceError {
    this.lu.ioErrors.record(this.writing ? "write" : "read", failure);
    return failure;
  }
}

function noop(): void {
  // The placeholder of a pooled request's resolve/reject between uses.
}
