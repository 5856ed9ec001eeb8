/**
 * How the etcd tests report a run of moves: each outcome (a change's state,
 * or the gRPC error a move got) cut short, runs of the same one counted.
 */
import * as grpc from "@grpc/grpc-js";

/** A refusal's text kept in the summary: its status and the start of its reason. */
const outcomeCharactersMax = 160;
/** How a controller's refusal reads as a gRPC error's message (status 9). */
const failedPreconditionPrefix = `${String(grpc.status.FAILED_PRECONDITION)} FAILED_PRECONDITION`;

/** The outcomes, each cut short, runs of the same one counted: "COMMITTED x3 | 14 UNAVAILABLE: ... x30 | ...". */
export function movesSummary(outcomes: readonly string[]): string {
  const runs: { outcome: string; count: number }[] = [];
  // gRPC's own details (remote address, timings) vary call by call: only its status and first words are kept. A
  // refusal by the controller (FAILED_PRECONDITION) keeps its reason: after a failover it says why a move was refused.
  const short = (text: string): string =>
    (/^[0-9]+ /.test(text) && !text.startsWith(failedPreconditionPrefix) ? text.split(":")[0] ?? text : text.slice(0, outcomeCharactersMax));
  for (const outcome of outcomes.map(short)) {
    const last = runs.at(-1);
    if (last?.outcome === outcome) last.count += 1;
    else runs.push({ outcome, count: 1 });
  }
  return runs.map(({ outcome, count }) => (count === 1 ? outcome : `${outcome} x${count}`)).join(" | ");
}
