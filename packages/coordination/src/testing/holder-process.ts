/**
 * A controller's use of the etcd coordination, reduced to its term, as a
 * process of its own so that a test can SIGSTOP it (issue 18: a partition of
 * the controller from etcd) and SIGCONT it later:
 *
 *   node holder-process.js ENDPOINTS KEY_PREFIX LEASE_MS
 *
 * It campaigns until granted, writes the store once, and renews at a third
 * of the lease. Once a renewal fails with LEASE_LOST it stops acting, except
 * for one write under its old token that shows whether etcd still takes it,
 * and exits. Each step is one JSON line on stdout:
 *   {"event":"granted","token":N}  {"event":"wrote","revision":N}
 *   {"event":"renewed"}  {"event":"lost","code":C}  {"event":"late-write","code":C}
 */
import { setTimeout as sleep } from "node:timers/promises";
import { CoordinationError } from "../coordination.js";
import { etcdCoordination } from "../etcd-coordination.js";
import { renewIntervalMs } from "../coordination.js";
import { campaignUntilGranted, nextState } from "./coordination-suite.js";

function emit(line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function codeOf(error: unknown): string {
  if (error instanceof CoordinationError) return error.code;
  throw error;
}

async function main(argv: readonly string[]): Promise<void> {
  const [endpoints, keyPrefix, leaseText] = argv;
  if (endpoints === undefined || keyPrefix === undefined || leaseText === undefined) {
    throw new Error("usage: holder-process.js ENDPOINTS KEY_PREFIX LEASE_MS");
  }
  const leaseMs = Number(leaseText);
  const coordination = etcdCoordination({ endpoints: endpoints.split(","), keyPrefix, now: () => performance.now() });
  let term = await campaignUntilGranted(coordination, { id: "holder-process", address: "127.0.0.1:7009" }, leaseMs);
  emit({ event: "granted", token: term.token });
  const read = await coordination.readStore();
  emit({ event: "wrote", revision: await coordination.writeStore(term.token, read.revision, nextState(read.state, "holder-process")) });
  for (;;) {
    await sleep(renewIntervalMs(leaseMs));
    try {
      term = await coordination.renew(term);
      emit({ event: "renewed" });
    } catch (error) {
      emit({ event: "lost", code: codeOf(error) });
      break;
    }
  }
  // Not something a controller does once it lost its term: here only to show that etcd refuses it.
  const now = await coordination.readStore();
  const late = await coordination.writeStore(term.token, now.revision, nextState(now.state, "late")).then(
    () => "WRITTEN",
    (error: unknown) => codeOf(error),
  );
  emit({ event: "late-write", code: late });
  await coordination.close();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`holder-process: ${String(error)}\n`);
  process.exitCode = 1;
});
