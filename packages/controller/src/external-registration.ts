/**
 * `device add-external` against the world: the registration is checked
 * (external-devices.ts), then the device is asked to probe the server's
 * export (the controller has no data path: it never opens NBD itself), and
 * only then does the store change. Also the devices as the console shows
 * them, external ones among them.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { isRpcError, type DeviceStatus, type StoreState, type StoreState__Output } from "@switchyard/proto";
import type { DevicePort } from "./device-port.js";
import { ControllerError } from "./errors.js";
import { areasTotal, freeAreaCount, usedAreaMaps } from "./allocation.js";
import { checkRegistration, checkRemoval, planExternalDevice, type ExternalProbe, type ExternalRegistration } from "./external-devices.js";

export type { ExternalRegistration } from "./external-devices.js";

/** Asks the device what the export `nbdUri` serves; refuses with a ControllerError. */
export type ExportProbe = (registration: ExternalRegistration) => Promise<ExternalProbe>;

/**
 * The device connects to the server as an apparatus will and says what it
 * serves. Its refusals keep their meaning: a URI it does not take is bad
 * input, a server it cannot reach a state to fix first.
 */
export async function probeExport(device: Pick<DevicePort, "probeNbdExport">, registration: ExternalRegistration): Promise<ExternalProbe> {
  try {
    const probe = await device.probeNbdExport({ nbd_uri: registration.nbdUri });
    return { sizeBytes: probe.size_bytes, readOnly: probe.read_only, exportName: probe.export_name };
  } catch (error) {
    if (!isRpcError(error)) throw error;
    if (error.code === grpc.status.INVALID_ARGUMENT) throw new ControllerError("INVALID_ARGUMENT", error.details, { cause: error });
    if (error.code !== grpc.status.FAILED_PRECONDITION) throw error;
    throw new ControllerError("FAILED_PRECONDITION", `cannot reach ${registration.nbdUri} for device ${registration.name}: ${error.details}; is the NBD server running?`, { cause: error });
  }
}

/**
 * The store with the external device added (the next generation, so every
 * apparatus loads a table that lists its LU), and the device as the console
 * shows it. Nothing is written here: the caller writes the state.
 */
export async function addExternalDevice(state: StoreState__Output, registration: ExternalRegistration, probeExport: ExportProbe): Promise<{ state: StoreState; device: DeviceStatus }> {
  checkRegistration(state, registration);
  const probe = await probeExport(registration);
  const { lu, device } = planExternalDevice(state, registration, probe);
  const next: StoreState = { ...state, generation: state.generation + 1, lus: [...state.lus, lu], external_devices: [...state.external_devices, device] };
  const extentSizeBytes = Number(lu.extent_size_bytes);
  const areas = Math.floor(probe.sizeBytes / extentSizeBytes);
  const status: DeviceStatus = {
    id: registration.name,
    grpc: "",
    external: true,
    nbd_uri: registration.nbdUri,
    lus: [{ id: lu.id, size_bytes: probe.sizeBytes, extent_size_bytes: extentSizeBytes, areas_total: areas, areas_free: areas }],
  };
  return { state: next, device: status };
}

/**
 * The store without external device `name` (the next generation, so every
 * apparatus loads a table without its LU and closes its connection), and the
 * device as the console showed it. Refused while anything still uses it
 * (checkRemoval). `state` must include the journal; nothing is written here.
 */
export function removeExternalDevice(state: StoreState__Output, name: string): { state: StoreState; device: DeviceStatus } {
  checkRemoval(state, name);
  const device = devicesStatus(state, () => "").find((candidate) => candidate.id === name);
  assert.ok(device !== undefined);
  const next: StoreState = {
    ...state,
    generation: state.generation + 1,
    lus: state.lus.filter((lu) => lu.device_id !== name),
    external_devices: state.external_devices.filter((candidate) => candidate.id !== name),
  };
  return { state: next, device };
}

/**
 * Every device with its LUs and free areas, in the store's LU order: the
 * Switchyard device (reached at `deviceAddress`) and the external ones.
 */
export function devicesStatus(state: StoreState__Output, grpcOf: (deviceId: string) => string): DeviceStatus[] {
  const used = usedAreaMaps(state);
  const devices = new Map<string, DeviceStatus & { lus: NonNullable<DeviceStatus["lus"]> }>();
  for (const lu of state.lus) {
    let device = devices.get(lu.device_id);
    if (device === undefined) {
      device = { id: lu.device_id, grpc: lu.external ? "" : grpcOf(lu.device_id), external: lu.external, nbd_uri: lu.external ? lu.nbd_uri : "", lus: [] };
      devices.set(lu.device_id, device);
    }
    device.lus.push({
      id: lu.id,
      size_bytes: lu.size_bytes,
      extent_size_bytes: lu.extent_size_bytes,
      areas_total: areasTotal(lu),
      areas_free: freeAreaCount(used.get(lu.index) ?? new Uint8Array()),
    });
  }
  return [...devices.values()];
}
