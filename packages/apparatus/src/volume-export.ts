/**
 * A virtual volume as an NBD export: one per volume, named by the volume.
 * Every operation goes through the apparatus's I/O path, which maps it by the
 * active face at the moment it is admitted.
 */
import type { AllocationExtent, NbdExport, WriteZeroesFlags } from "@switchyard/nbd";
import type { IoPath } from "./io-path.js";

export class VolumeExport implements NbdExport {
  readonly name: string;
  readonly sizeBytes: number;
  readonly readOnly = false;
  /**
   * Safe: the apparatus caches nothing and FLUSH syncs every LU, so a FLUSH on
   * one connection covers the writes completed on all of them.
   */
  readonly multiConn = true;
  private readonly io: IoPath;

  constructor(io: IoPath, name: string, sizeBytes: number) {
    this.io = io;
    this.name = name;
    this.sizeBytes = sizeBytes;
  }

  read(offsetBytes: number, into: Buffer): Promise<void> {
    return this.io.read(this.name, offsetBytes, into);
  }

  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void> {
    return this.io.write(this.name, offsetBytes, data, fua);
  }

  flush(): Promise<void> {
    return this.io.flush(this.name);
  }

  trim(offsetBytes: number, lengthBytes: number): Promise<void> {
    return this.io.trim(this.name, offsetBytes, lengthBytes);
  }

  writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void> {
    return this.io.writeZeroes(this.name, offsetBytes, lengthBytes, flags);
  }

  allocation(offsetBytes: number, lengthBytes: number): Promise<readonly AllocationExtent[]> {
    return this.io.allocation(this.name, offsetBytes, lengthBytes);
  }

  close(): void {
    // Nothing is kept per connection.
  }
}
