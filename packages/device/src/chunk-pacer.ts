/**
 * Spaces the chunk copies of a rate-limited migration: a group (one
 * migration's mirrors) starts a chunk at most once per chunk's worth of its
 * rate, whichever of its mirrors copies it (device-mirrors.ts). A chunk
 * copied again because hosts wrote into it during its copy (area-mirror.ts)
 * is charged too: the rate bounds what the copy reads and writes, not only
 * how fast the watermark moves.
 */
export class ChunkPacer {
  /** Per group, when its next chunk may start. */
  private readonly nextChunkAtMs = new Map<string, number>();

  constructor(private readonly chunkBytes: number, private readonly now: () => number = () => performance.now()) {}

  /** Resolves when `group`'s next chunk may start at `rateBytesPerSecond`; at once for 0, no limit. */
  async turn(group: string, rateBytesPerSecond: number): Promise<void> {
    const waitMs = this.book(group, rateBytesPerSecond, 1);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** `chunks` more copies the group made (chunks copied again): its next chunk starts that much later. */
  charge(group: string, rateBytesPerSecond: number, chunks: number): void {
    if (chunks > 0) this.book(group, rateBytesPerSecond, chunks);
  }

  /** Books `chunks` chunk copies of the group's rate from when its next may start; returns how long from now until then. */
  book(group: string, rateBytesPerSecond: number, chunks: number): number {
    if (rateBytesPerSecond === 0) return 0;
    const nowMs = this.now();
    const startAtMs = Math.max(nowMs, this.nextChunkAtMs.get(group) ?? nowMs);
    this.nextChunkAtMs.set(group, startAtMs + (chunks * 1000 * this.chunkBytes) / rateBytesPerSecond);
    return startAtMs - nowMs;
  }
}
