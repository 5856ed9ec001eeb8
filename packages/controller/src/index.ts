/**
 * @switchyard/controller: the configuration change controller. It talks to
 * devices and apparatuses only through their gRPC services.
 */
export { ClusterController, callTimeoutMs, leaseMsDefault, volumesMax } from "./cluster-controller.js";
export type { ApparatusEndpoint, ClusterControllerOptions } from "./cluster-controller.js";
export { controllerHandlers } from "./controller-service.js";
export { ControllerError, mapControllerError } from "./errors.js";
export type { ControllerErrorCode } from "./errors.js";
export { allocateAreas, areasTotal, freeAreaCount, usedAreaMaps } from "./allocation.js";
export { checkVolumeName, checkVolumeSize, volumeSizeAlignmentBytes } from "./volumes.js";
