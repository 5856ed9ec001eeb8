/**
 * A file's bytes in memory for the power-loss model: fixed-size chunks
 * allocated on first write, so a 16 MiB LU costs only what was written, and
 * a copy (the durable image taken at a cut) shares nothing with the original.
 */
import assert from "node:assert/strict";

/** 64 KiB: a 4 KiB host write allocates little, a 1 MiB one few chunks. */
export const chunkSizeBytes = 64 * 1024;
/** st_blocks counts 512-byte units. */
const statBlockSizeBytes = 512;

export class SparseBytes {
  private readonly chunks = new Map<number, Buffer>();

  /** Copies `into.length` bytes from `positionBytes`; never-written bytes read as zero. */
  read(into: Buffer, positionBytes: number): void {
    for (let doneBytes = 0; doneBytes < into.length;) {
      const at = positionBytes + doneBytes;
      const chunkIndex = Math.floor(at / chunkSizeBytes);
      const inChunk = at - chunkIndex * chunkSizeBytes;
      const lengthBytes = Math.min(chunkSizeBytes - inChunk, into.length - doneBytes);
      const chunk = this.chunks.get(chunkIndex);
      if (chunk === undefined) into.fill(0, doneBytes, doneBytes + lengthBytes);
      else chunk.copy(into, doneBytes, inChunk, inChunk + lengthBytes);
      doneBytes += lengthBytes;
    }
  }

  write(data: Buffer, positionBytes: number): void {
    for (let doneBytes = 0; doneBytes < data.length;) {
      const at = positionBytes + doneBytes;
      const chunkIndex = Math.floor(at / chunkSizeBytes);
      const inChunk = at - chunkIndex * chunkSizeBytes;
      const lengthBytes = Math.min(chunkSizeBytes - inChunk, data.length - doneBytes);
      let chunk = this.chunks.get(chunkIndex);
      if (chunk === undefined) {
        chunk = Buffer.alloc(chunkSizeBytes);
        this.chunks.set(chunkIndex, chunk);
      }
      data.copy(chunk, inChunk, doneBytes, doneBytes + lengthBytes);
      doneBytes += lengthBytes;
    }
  }

  /** Forgets everything at and past `sizeBytes`, as a shrinking ftruncate does. */
  cut(sizeBytes: number): void {
    assert.ok(Number.isSafeInteger(sizeBytes) && sizeBytes >= 0);
    for (const [chunkIndex, chunk] of this.chunks) {
      const startBytes = chunkIndex * chunkSizeBytes;
      if (startBytes >= sizeBytes) this.chunks.delete(chunkIndex);
      else if (startBytes + chunkSizeBytes > sizeBytes) chunk.fill(0, sizeBytes - startBytes);
    }
  }

  /** 512-byte blocks allocated, as st_blocks reports them. */
  get blockCount(): number {
    return this.chunks.size * (chunkSizeBytes / statBlockSizeBytes);
  }

  copy(): SparseBytes {
    const copied = new SparseBytes();
    for (const [chunkIndex, chunk] of this.chunks) copied.chunks.set(chunkIndex, Buffer.from(chunk));
    return copied;
  }
}
