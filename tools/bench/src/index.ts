// The benchmark's pure parts, for other tools that read fio reports or run
// the same workloads. The runnable benchmark is dist/run.js (`pnpm bench`).
export { FioReportError, median, parseFioReport, ratio, singleJobFigures } from "./fio.js";
export type { Direction, DirectionFigures, FioJob, FioReport } from "./fio.js";
export { runOrder } from "./schedule.js";
export { fioArguments, workloads } from "./workloads.js";
export type { FioRunOptions, Workload, WorkloadName } from "./workloads.js";
