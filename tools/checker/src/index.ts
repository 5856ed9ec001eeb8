/** @switchyard/checker: checks recorded host I/O histories against DESIGN.md's invariants. */
export { History, operationsMax } from "./history.js";
export type { Violation, WriteRecord } from "./history.js";
