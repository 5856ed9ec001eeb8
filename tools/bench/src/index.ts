// The benchmark's pure parts, for other tools that read fio reports or run
// the same workloads. The runnable benchmark is dist/run.js (`pnpm bench:speed`).
export { FioReportError, median, parseFioReport, ratio, singleJobFigures } from "./fio.js";
export type { Direction, DirectionFigures, FioJob, FioReport } from "./fio.js";
export { runOrder } from "./schedule.js";
export { renderTable, ratioFor, workloadResult } from "./report.js";
export type { ServerName, ServerResult, WorkloadResult } from "./report.js";
export { copyRateMebibytesPerSecond, fioArguments, nbdcopyArguments, unitOf, workloads } from "./workloads.js";
export type { CopyWorkload, FioRunOptions, FioWorkload, Workload, WorkloadName } from "./workloads.js";
