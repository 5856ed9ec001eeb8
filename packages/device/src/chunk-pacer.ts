/**
 * Spaces the chunk copies of a rate-limited migration: a group (one
 * migration's mirrors) starts a chunk at most once per chunk's worth of its
 * rate, whichever of its mirrors copies it (device-mirrors.ts).
 */
export class ChunkPacer {
  /** Per group, when its next chunk may start. */
  private readonly nextChunkAtMs = new Map<string, number>();

  constructor(private readonly chunkBytes: number) {}

  /** Resolves when `group`'s next chunk may start at `rateBytesPerSecond`; at once for 0, no limit. */
  async turn(group: string, rateBytesPerSecond: number): Promise<void> {
    if (rateBytesPerSecond === 0) return;
    const nowMs = performance.now();
    const startAtMs = Math.max(nowMs, this.nextChunkAtMs.get(group) ?? nowMs);
    this.nextChunkAtMs.set(group, startAtMs + (1000 * this.chunkBytes) / rateBytesPerSecond);
    if (startAtMs > nowMs) await new Promise((resolve) => setTimeout(resolve, startAtMs - nowMs));
  }
}
