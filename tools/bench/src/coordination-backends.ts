// The coordination a benchmark's cluster runs on (issue 18): embedded in
// the device (the default of `switchyard up` and `device serve`), or a
// three-member etcd on loopback that scripts/etcd-cluster.sh starts in a
// folder of its own and stops after the run.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runToolChecked } from "./processes.js";
import { UsageError } from "./run-options.js";

export type Backend = "embedded" | "etcd";
export const backends: readonly Backend[] = ["embedded", "etcd"];

/** The script that starts and stops a three-member etcd on loopback. */
const etcdScript = fileURLToPath(new URL("../../../scripts/etcd-cluster.sh", import.meta.url));
/** The script waits up to 30 s for a healthy cluster, and stops each member within 10 s. */
const etcdScriptTimeoutMs = 60_000;

/** `--backends embedded,etcd` (or one of them). */
export function backendsOption(text: string): Backend[] {
  const chosen = text.split(",").map((name) => backends.find((backend) => backend === name.trim()));
  if (chosen.length === 0 || chosen.some((backend) => backend === undefined)) throw new UsageError(`--backends takes ${backends.join(",")} or one of them, not ${text}`);
  return chosen.filter((backend) => backend !== undefined);
}

/**
 * Runs `body` with the coordination's settings: no etcd URLs when embedded,
 * or the client URLs of a fresh etcd cluster under `dir`, stopped after.
 */
export async function withBackend<Result>(backend: Backend, dir: string, body: (etcdUrls: string | undefined) => Promise<Result>): Promise<Result> {
  if (backend === "embedded") return body(undefined);
  const etcdDir = join(dir, "etcd");
  const urls = (await runToolChecked(etcdScript, ["start", etcdDir], etcdScriptTimeoutMs)).trim();
  try {
    return await body(urls);
  } finally {
    await runToolChecked(etcdScript, ["stop", etcdDir], etcdScriptTimeoutMs);
  }
}
