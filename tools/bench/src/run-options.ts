// The options every fio benchmark shares (`pnpm bench`, `pnpm bench:tls`):
// runs per workload, seconds per run and the data size, with their defaults
// and the bounds that keep a typo from starting an hour-long run.

const mebibyte = 1024 * 1024;
// Defaults keep `pnpm bench` near 6 minutes on 2 cores:
// 3 servers x 6 fio workloads x 3 runs x 3 s, 3 x 2 x 3 copies of the
// image, plus start-up and prefill; 1 GiB is the size issue 20 names.
const runsDefault = 3;
const runSecondsDefault = 3;
const sizeMebibytesDefault = 1024;
// Upper bounds so a typo cannot start an hour-long run or fill the disk.
const runsMax = 25;
const runSecondsMax = 60;
const sizeMebibytesMax = 8192;
/** fio runs for its --runtime plus connection set-up (and a TLS handshake); past this it is hung. */
export const fioTimeoutMarginMs = 30_000;

export class UsageError extends Error {
  readonly code = "BENCH_USAGE";
}

export interface RunOptions {
  readonly runs: number;
  readonly runSeconds: number;
  readonly sizeBytes: number;
}

function boundedInteger(text: string | undefined, fallback: number, maximum: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > maximum) throw new UsageError(`${flag} must be an integer from 1 to ${maximum}, got '${text}'`);
  return value;
}

/** --runs, --seconds and --size-mib as parsed by node:util's parseArgs, checked and defaulted. */
export function runOptions(values: { readonly runs?: string; readonly seconds?: string; readonly "size-mib"?: string }): RunOptions {
  return {
    runs: boundedInteger(values.runs, runsDefault, runsMax, "--runs"),
    runSeconds: boundedInteger(values.seconds, runSecondsDefault, runSecondsMax, "--seconds"),
    sizeBytes: boundedInteger(values["size-mib"], sizeMebibytesDefault, sizeMebibytesMax, "--size-mib") * mebibyte,
  };
}
