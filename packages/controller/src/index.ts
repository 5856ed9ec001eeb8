/**
 * @switchyard/controller: the configuration change controller. It talks to
 * devices and apparatuses only through their gRPC services.
 */
export { ClusterController, apparatusLeaseMsDefault, callTimeoutMs, leaseMsDefault, volumesMax } from "./cluster-controller.js";
export type { ApparatusEndpoint, ClusterControllerOptions } from "./cluster-controller.js";
export { controllerHandlers } from "./controller-service.js";
export { ControllerError, mapControllerError } from "./errors.js";
export type { ControllerErrorCode } from "./errors.js";
export { allocateAreas, areasTotal, freeAreaCount, usedAreaMaps } from "./allocation.js";
export { checkVolumeName, checkVolumeSize, volumeSizeAlignmentBytes } from "./volumes.js";
export { ChangeRun } from "./change-run.js";
export type { Command, EffectKind, MessagePhase, Outcome, PhaseRecord, ReportRecord } from "./change-run.js";
export { driveChange } from "./change-driver.js";
export { ChangePhaseLog, controllerLogger } from "./change-log.js";
export type { ChangeLogger } from "./change-log.js";
export type { ChangeEffects, ChangeResult, PhaseAnswer } from "./change-driver.js";
export { ControlCallError, ControlStream, controlMessagesInFlightMax } from "./control-stream.js";
export { ChangeExecutor, infoOf, journalEntriesMax, phaseTimeoutMsDefault } from "./change-executor.js";
export { planMove, planResize } from "./change-plans.js";
export type { ChangePlan, CopyStep } from "./change-plans.js";
export { serveController } from "./controller-serve.js";
export type { ServeControllerOptions, ServedController } from "./controller-serve.js";
export { startController, threadStopTimeoutMs } from "./controller-thread.js";
export type { ControllerThreadMode } from "./controller-thread.js";
export { controllerForwarder } from "./controller-forward.js";
export type { ControllerForwarder } from "./controller-forward.js";
export { crashPoints } from "./test-crash.js";
export type { CrashPoint, TestCrash } from "./test-crash.js";
