/**
 * One byte-I/O interface for whatever holds an area's bytes: a device's LU
 * file, an LU of a remote device reached over NBD, an external NBD server,
 * memory. The apparatus sends mapped host I/O to one, a device's mirror
 * copies between two, and the NBD server serves one (NbdExport extends it).
 * Every implementation passes the one shared suite (`blockIoSuite` on the
 * "./testing" subpath), as every abstract-level store passes its suite.
 *
 * It lives here, in the leaf package, because the device and the apparatus
 * both implement it and neither may import the other.
 */

/** Flags of a WRITE_ZEROES (NBD proto.md "NBD_CMD_WRITE_ZEROES"). */
export interface WriteZeroesFlags {
  /** NBD_CMD_FLAG_FUA: durable before the promise resolves. */
  readonly fua: boolean;
  /** NBD_CMD_FLAG_NO_HOLE: the range must be allocated, not punched. */
  readonly noHole: boolean;
}

/**
 * A run of bytes with one allocation state: the NBD `base:allocation`
 * status bits (NBD_STATE_HOLE, NBD_STATE_ZERO; 0 is "data, or not known").
 */
export interface AllocationExtent {
  readonly lengthBytes: number;
  readonly state: number;
}

/**
 * Byte-addressed I/O on `sizeBytes` bytes.
 *
 * A range that ends past `sizeBytes` is an operating error: the promise
 * rejects with the implementation's typed error (an Error with a stable
 * `code`, such as NbdError's EINVAL or the device's OUT_OF_RANGE) and no
 * byte changes. A zero-length range within the bytes succeeds and changes
 * nothing. Other failures keep the implementation's own typed errors too,
 * mapped to a protocol's codes only at its edge (the NBD server, gRPC).
 */
export interface BlockIo {
  readonly sizeBytes: number;
  /** Fills all of `into`, and nothing else, from `offsetBytes`. */
  read(offsetBytes: number, into: Buffer): Promise<void>;
  /**
   * Writes all of `data` at `offsetBytes`; with `fua`, durable before it
   * resolves. `data` is lent until the promise settles, then the caller may
   * reuse it (the NBD server does, for later requests).
   */
  write(offsetBytes: number, data: Buffer, fua: boolean): Promise<void>;
  /** Makes the range read as zeroes. */
  writeZeroes(offsetBytes: number, lengthBytes: number, flags: WriteZeroesFlags): Promise<void>;
  /** Makes every write completed before the call durable (NBD proto.md: FLUSH covers replied writes). */
  flush(): Promise<void>;
  /**
   * How the range is allocated: consecutive extents from `offsetBytes`, each
   * longer than 0, together covering at least one byte and at most
   * `lengthBytes` (less when finding out more would cost too much; callers
   * ask again from where it stopped). Optional: without it, every byte is
   * data (state 0), which is always true (NBD proto.md "base:allocation").
   */
  allocation?(offsetBytes: number, lengthBytes: number): Promise<readonly AllocationExtent[]>;
}
