/**
 * Where a failover's time goes on etcd: `etcdctl watch` on the election
 * keys (coordination's etcd-keys.ts: <prefix>election/<lease id>, the holder
 * the key with the lowest create revision) notes when each key appears and
 * when it is deleted, so the benchmark can split the time from a kill to
 * the next commit into "the dead holder's etcd lease ended" and the rest
 * (a follower's campaign, the takeover, the move). etcdctl, not an etcd
 * client library: the benchmark needs nothing from etcd but these events.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { sleep } from "./processes.js";

/** Between looks for a deletion still to come. */
const pollMs = 20;

interface WatchEvent {
  readonly type?: number;
  readonly kv: { readonly key: string; readonly create_revision?: number };
}

/** etcd's event type for a deletion (mvccpb.Event.DELETE); a put has none in etcdctl's JSON. */
const deleteEventType = 1;

export class ElectionWatch {
  /** Election keys present now, with their create revisions. */
  private readonly present = new Map<string, number>();
  /** When each key was seen deleted, on performance.now(). */
  private readonly deletedAtMs = new Map<string, number>();

  private constructor(private readonly child: ChildProcess) {
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    lines.on("line", (line) => {
      this.take(line);
    });
  }

  /** Watches `<keyPrefix>election/` on the cluster at `urls` (comma-separated). */
  static start(urls: string, keyPrefix: string): ElectionWatch {
    const child = spawn("etcdctl", [`--endpoints=${urls}`, "watch", "--prefix", `${keyPrefix}election/`, "-w", "json"], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, ETCDCTL_API: "3" },
    });
    return new ElectionWatch(child);
  }

  /** The holder's key now: the lowest create revision among the present ones. */
  holderKey(): string | undefined {
    let holder: [string, number] | undefined;
    for (const entry of this.present) if (holder === undefined || entry[1] < holder[1]) holder = entry;
    return holder?.[0];
  }

  /** When `key` was deleted; waits up to `timeoutMs` for it. */
  async deletedAt(key: string, timeoutMs: number): Promise<number | undefined> {
    const deadlineMs = performance.now() + timeoutMs;
    while (!this.deletedAtMs.has(key) && performance.now() < deadlineMs) await sleep(pollMs);
    return this.deletedAtMs.get(key);
  }

  stop(): void {
    this.child.kill("SIGTERM");
  }

  private take(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return; // Not an event line (etcdctl prints only JSON with -w json; anything else is skipped).
    }
    const events = typeof parsed === "object" && parsed !== null && "Events" in parsed && Array.isArray(parsed.Events) ? (parsed.Events as WatchEvent[]) : [];
    const atMs = performance.now();
    for (const event of events) {
      if (event.type === deleteEventType) {
        this.present.delete(event.kv.key);
        this.deletedAtMs.set(event.kv.key, atMs);
      } else if (event.kv.create_revision !== undefined) {
        this.present.set(event.kv.key, event.kv.create_revision);
      }
    }
  }
}
