/**
 * A real three-member etcd cluster for tests, started and stopped by
 * scripts/etcd-cluster.sh (one way to start a cluster, for people and tests
 * alike), in a temporary folder, with each member's pid so that a test can
 * SIGKILL one (the leader, say) and see the cluster go on without it.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Etcd3 } from "etcd3";

const execFileAsync = promisify(execFile);

/** The script waits up to 30 s for a healthy cluster; this bounds the whole start on a loaded machine. */
export const etcdClusterStartTimeoutMs = 60_000;
/** The script gives each member 10 s after SIGTERM before SIGKILL. */
export const etcdClusterStopTimeoutMs = 40_000;
/** One status call to one member, when looking for the leader. */
const statusCallTimeoutMs = 2_000;

/** From src/testing/ and dist/testing/ alike: the package is two folders below the repository root. */
const scriptPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../scripts/etcd-cluster.sh");

export interface EtcdTestMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly pid: number;
  /** False once the test killed it. */
  alive: boolean;
}

export interface EtcdTestCluster {
  /** Every member's client URL, the killed ones included (clients skip them). */
  readonly endpoints: readonly string[];
  readonly members: readonly EtcdTestMember[];
  /** The member that is the Raft leader now, as the live members report it. */
  leader(): Promise<EtcdTestMember>;
  /** SIGKILL: no chance to hand over leadership or flush anything. */
  kill(member: EtcdTestMember): void;
  /** Ends every member the script started; safe to call twice. */
  stop(): Promise<void>;
}

export async function startEtcdCluster(): Promise<EtcdTestCluster> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), "switchyard-etcd-test-"));
  let output: string;
  try {
    ({ stdout: output } = await execFileAsync(scriptPath, ["start", folder], { timeout: etcdClusterStartTimeoutMs, encoding: "utf8" }));
  } catch (error) {
    await fs.rm(folder, { recursive: true, force: true });
    throw error;
  }
  const endpoints = output.trim().split(",");
  const members: EtcdTestMember[] = await Promise.all(endpoints.map(async (clientUrl, index) => ({
    name: `m${index}`,
    clientUrl,
    pid: Number((await fs.readFile(path.join(folder, `m${index}.pid`), "utf8")).trim()),
    alive: true,
  })));
  let stopped = false;
  return {
    endpoints,
    members,
    leader: () => findLeader(members),
    kill: (member) => {
      process.kill(member.pid, "SIGKILL");
      member.alive = false;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await execFileAsync(scriptPath, ["stop", folder], { timeout: etcdClusterStopTimeoutMs, encoding: "utf8" });
    },
  };
}

/** Asks each live member for its status; the leader is the member whose id they name. */
async function findLeader(members: readonly EtcdTestMember[]): Promise<EtcdTestMember> {
  const byId = new Map<string, EtcdTestMember>();
  let leaderId: string | undefined;
  for (const member of members.filter((candidate) => candidate.alive)) {
    const client = new Etcd3({ hosts: member.clientUrl, defaultCallOptions: () => ({ deadline: Date.now() + statusCallTimeoutMs }) });
    try {
      const status = await client.maintenance.status();
      byId.set(status.header.member_id, member);
      if (status.leader !== "0") leaderId = status.leader;
    } finally {
      client.close();
    }
  }
  const leader = leaderId === undefined ? undefined : byId.get(leaderId);
  if (leader === undefined) throw new Error(`no live member is the leader (leader id ${leaderId ?? "none"})`);
  return leader;
}
