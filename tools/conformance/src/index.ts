/**
 * @switchyard/conformance: the conformance suite for virtualization
 * apparatuses, as a library (the `switchyard-conformance` binary is a thin
 * front end over it).
 */
export { allCases } from "./cases/index.js";
export type { ConformanceCase } from "./cases/index.js";
export { CaseContext } from "./context.js";
export { main, exitFailed, exitPassed, exitUsage } from "./main.js";
export type { Io } from "./main.js";
export { helpText, parseCommandLine, UsageError, writeDelayMsDefault } from "./options.js";
export type { ParsedCommand, SuiteOptions, Target } from "./options.js";
export { junitXml, summaryLine, tapLine } from "./report.js";
export type { CaseResult } from "./report.js";
export { caseTimeoutMs, runConformance, selectCases, SetupError } from "./runner.js";
