/**
 * Live updates for the page: while at least one page listens, the feed reads
 * a snapshot every snapshotPollMs and sends it (server-sent events) when it
 * differs from the last one sent. When the controller does not answer (it is
 * starting, or moving to another apparatus) the pages are told so once, keep
 * what they show, and get a fresh snapshot as soon as it answers again:
 * console calls go through an apparatus's Controller forwarding, which
 * follows whichever apparatus holds the lease.
 */
import type { ServerResponse } from "node:http";
import type { ConsoleClient } from "../controller-client.js";
import { readSnapshot } from "./snapshot.js";

/**
 * Between reads of the cluster: a change's phases take tens of milliseconds
 * to seconds, and a person sees half a second as live; each read costs the
 * device one store read, so it runs only while a page listens.
 */
export const snapshotPollMs = 500;
/**
 * A read of the cluster that takes longer than this counts as the controller
 * not answering: a stopped controller process would otherwise freeze the page
 * for a command's whole deadline. A healthy read takes milliseconds.
 */
export const snapshotCallTimeoutMs = 3_000;
/** Pages listening at once; one more is refused (503) rather than add a poll's worth of sends each. */
export const eventStreamsMax = 64;
/**
 * Tells the browser how soon to reconnect when the stream drops (the
 * console's process restarted, say): EventSource's own default is seconds.
 */
export const reconnectAfterMs = 1_000;

export class SnapshotFeed {
  private readonly client: ConsoleClient;
  private readonly streams = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private lastSent = "";
  private unavailable = false;

  constructor(client: ConsoleClient) {
    this.client = client;
  }

  /** Takes an event stream for one page; false if there are already eventStreamsMax. */
  add(response: ServerResponse): boolean {
    if (this.streams.size >= eventStreamsMax) return false;
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    response.write(`retry: ${reconnectAfterMs}\n\n`);
    this.streams.add(response);
    response.on("close", () => {
      this.streams.delete(response);
      if (this.streams.size === 0) this.stop();
    });
    // A new page gets the current snapshot at once, not at the next difference.
    this.lastSent = "";
    this.unavailable = false;
    this.timer ??= setInterval(() => void this.poll(), snapshotPollMs);
    void this.poll();
    return true;
  }

  /** Reads now (after a form changed something) instead of at the next tick. */
  refresh(): void {
    if (this.streams.size > 0) void this.poll();
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const text = JSON.stringify(await readSnapshot(this.client));
      this.unavailable = false;
      // The time a snapshot was read differs every time: compare what it says, not when.
      const content = text.replace(/^\{"at":"[^"]*",/, "{");
      if (content === this.lastSent) return;
      this.lastSent = content;
      this.send("snapshot", text);
    } catch (error: unknown) {
      if (this.unavailable) return;
      this.unavailable = true;
      this.lastSent = "";
      this.send("unavailable", JSON.stringify({ message: error instanceof Error ? error.message : String(error) }));
    } finally {
      this.reading = false;
    }
  }

  private send(event: string, data: string): void {
    for (const stream of this.streams) stream.write(`event: ${event}\ndata: ${data}\n\n`);
  }

  close(): void {
    this.stop();
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }
}
