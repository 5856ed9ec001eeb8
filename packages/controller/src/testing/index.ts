/**
 * Test helpers of @switchyard/controller (the "./testing" subpath): crash
 * points, a decorator of the ports a change runs over.
 */
export { changePortsDecorator, crashPoints, crashPointsModule, crashingPorts } from "./crash-points.js";
export type { CrashPoint, TestCrash } from "./crash-points.js";
