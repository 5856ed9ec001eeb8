/**
 * @switchyard/controller: the configuration change controller. It talks to
 * devices and apparatuses only through their gRPC services.
 */
export { ClusterController, apparatusLeaseMsDefault, leaseMsDefault, volumesMax } from "./cluster-controller.js";
export { callTimeoutMs, externalProbeCallTimeoutMs, grpcDevicePort, scrubTimeoutMs, type DevicePort } from "./device-port.js";
export { coordinationDevicePort, etcdControllerLeaseMs, etcdDevicePort, grpcStatusOfCoordination, type CoordinationDevicePortOptions, type EtcdSettings } from "./coordination-device-port.js";
export { grpcApparatusPort, type ApparatusPort, type ApparatusPortFactory } from "./apparatus-port.js";
export { linkedChannelOptions, relayLinks, type ProcessLink } from "./process-links.js";
export { isSilence, refusalMessage } from "./call-errors.js";
export type { ApparatusEndpoint, ClusterControllerOptions } from "./cluster-controller.js";
export { controllerHandlers } from "./controller-service.js";
export { ControllerError, mapControllerError } from "./errors.js";
export type { ControllerErrorCode } from "./errors.js";
export { allocateAreas, areasTotal, freeAreaCount, usedAreaMaps } from "./allocation.js";
export { checkVolumeName, checkVolumeSize, volumeSizeAlignmentBytes } from "./volumes.js";
export { ChangeRun } from "./change-run.js";
export type { Command, EffectKind, MessagePhase, Outcome, PhaseRecord, ReportRecord } from "./change-run.js";
export { driveChange } from "./change-driver.js";
export { sleepOn, systemScheduler, type CancelTimer, type Scheduler } from "./scheduler.js";
export { processWarn, systemEntropy, type Entropy, type Warn } from "./environment.js";
export { ChangePhaseLog, controllerLogger } from "./change-log.js";
export type { ChangeLogger } from "./change-log.js";
export type { ChangeContext, ChangeEffects, ChangePortsDecorator, ChangeResult, PhaseAnswer } from "./change-driver.js";
export { ControlCallError, ControlStream, controlMessagesInFlightMax } from "./control-stream.js";
export { ChangeExecutor, infoOf, journalEntriesMax, phaseTimeoutMsDefault } from "./change-executor.js";
export { planMirror, planMirrorEnd, planResize } from "./change-plans.js";
export type { ChangePlan } from "./change-plans.js";
export { serveController } from "./controller-serve.js";
export type { ChangePortsModule, ServeControllerOptions, ServedController } from "./controller-serve.js";
export { prepareController, threadStopTimeoutMs } from "./controller-thread.js";
export type { ControllerThreadMode, PreparedController } from "./controller-thread.js";
export { controllerForwarder } from "./controller-forward.js";
export { authorizedControllerHandlers, controllerAuthorizationTable } from "./controller-authorization.js";
export type { ControllerForwarder } from "./controller-forward.js";
export { ControlThread, controlThreadStopTimeoutMs, type ControlForwarding } from "./control-thread.js";
export { eventRecordKind } from "./event-records.js";
