/**
 * External devices (issue 5): any NBD server (nbdkit, qemu-nbd, another
 * vendor's target) registered as a storage device with one LU, its export.
 * Such a server has no metadata area, so its area allocation lives in the
 * configuration store with every other LU's: the LU is one more row of the
 * store's LU list, marked `external`, and extents map to its areas like any
 * other. This module checks a registration (pure, given what the server
 * said) and finds LUs by the names the console accepts.
 */
import assert from "node:assert/strict";
import type { ExternalDevice, LogicalUnit, LogicalUnit__Output, StoreState__Output } from "@switchyard/proto";
import { externalNameRule, isExternalName } from "@switchyard/proto";
import { ControllerError } from "./errors.js";

/** External devices a cluster may hold: each is an NBD connection from every apparatus. */
export const externalDevicesMax = 16;
/** The LU name of an external device whose URI names no export (the server's default export). */
export const defaultExportLuName = "default";

export function checkDeviceName(name: string): void {
  if (!isExternalName(name)) {
    throw new ControllerError("INVALID_ARGUMENT", `device name ${JSON.stringify(name)} must be ${externalNameRule}`);
  }
}

/** What the server said when the device connected to it (ProbeNbdExport), the URI checked on the way. */
export interface ExternalProbe {
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  /** The export the URI names; "" for the server's default. */
  readonly exportName: string;
}

export interface ExternalRegistration {
  readonly name: string;
  readonly nbdUri: string;
  /** 0: the cluster's extent size. */
  readonly extentSizeBytes: number;
}

/**
 * Names and limits, checked before the server is contacted: a refusal here
 * costs no connection. The URI's syntax is the device's to check, as it
 * probes the server (ProbeNbdExport answers INVALID_ARGUMENT before connecting).
 */
export function checkRegistration(state: StoreState__Output, registration: ExternalRegistration): void {
  checkDeviceName(registration.name);
  const deviceIds = new Set(state.lus.map((lu) => lu.device_id));
  if (deviceIds.has(registration.name) || state.lus.some((lu) => lu.id === registration.name)) {
    throw new ControllerError("ALREADY_EXISTS", `a device or LU named ${registration.name} exists already; devices are ${[...deviceIds].join(", ")}`);
  }
  const taken = state.lus.find((lu) => lu.external && lu.nbd_uri === registration.nbdUri);
  if (taken !== undefined) {
    throw new ControllerError("ALREADY_EXISTS", `${registration.nbdUri} is registered already, as device ${taken.device_id}`);
  }
  if (state.external_devices.length >= externalDevicesMax) {
    throw new ControllerError("LIMIT", `the cluster already has ${externalDevicesMax} external devices, the most it may hold`);
  }
}

/** The extent size an external LU is cut into: the one asked for, else the cluster's. */
export function extentSizeFor(state: StoreState__Output, asked: number): number {
  const clusterBytes = state.lus.find((lu) => !lu.external)?.extent_size_bytes ?? 0;
  if (clusterBytes === 0) throw new ControllerError("UNAVAILABLE", "the device has no LUs yet");
  if (asked === 0) return clusterBytes;
  if (!Number.isSafeInteger(asked) || asked % 512 !== 0) {
    throw new ControllerError("INVALID_ARGUMENT", `--extent-size ${asked} is not a multiple of 512 bytes`);
  }
  return asked;
}

/** The store rows a registration adds, given what the server said; refuses an export no area fits. */
export function planExternalDevice(
  state: StoreState__Output,
  registration: ExternalRegistration,
  probe: ExternalProbe,
): { lu: LogicalUnit; device: ExternalDevice } {
  const extentSizeBytes = extentSizeFor(state, registration.extentSizeBytes);
  const where = `${registration.nbdUri} (device ${registration.name})`;
  if (probe.readOnly) throw new ControllerError("FAILED_PRECONDITION", `${where} is read-only; volumes need a writable export`);
  if (probe.sizeBytes < extentSizeBytes || probe.sizeBytes % extentSizeBytes !== 0) {
    throw new ControllerError(
      "FAILED_PRECONDITION",
      `${where} is ${probe.sizeBytes} bytes, not a whole number of ${extentSizeBytes}-byte areas; resize the export or give --extent-size that divides it`,
    );
  }
  const index = state.lus.reduce((highest, lu) => Math.max(highest, lu.index + 1), 0);
  const luName = probe.exportName === "" ? defaultExportLuName : probe.exportName;
  const lu: LogicalUnit = {
    index,
    id: `${registration.name}:${luName}`,
    device_id: registration.name,
    size_bytes: probe.sizeBytes,
    extent_size_bytes: extentSizeBytes,
    nbd_uri: registration.nbdUri,
    external: true,
  };
  return { lu, device: { id: registration.name, nbd_uri: registration.nbdUri } };
}

/**
 * The LU a console names: its id (`lu0`, `ext1:disk`), DEVICE:LU (`dev0:lu0`,
 * `ext1:disk`), or a device with one LU by the device's name (`ext1`).
 */
export function findLu(state: StoreState__Output, name: string): LogicalUnit__Output | undefined {
  const exact = state.lus.find((lu) => lu.id === name);
  if (exact !== undefined) return exact;
  const colon = name.indexOf(":");
  if (colon > 0) {
    const deviceId = name.slice(0, colon);
    const luName = name.slice(colon + 1);
    return state.lus.find((lu) => lu.device_id === deviceId && lu.id === luName);
  }
  const ofDevice = state.lus.filter((lu) => lu.device_id === name);
  return ofDevice.length === 1 ? ofDevice[0] : undefined;
}

/** `findLu`, or NOT_FOUND with the LUs there are. */
export function requireLu(state: StoreState__Output, name: string): LogicalUnit__Output {
  const lu = findLu(state, name);
  if (lu === undefined) throw new ControllerError("NOT_FOUND", `no LU ${name}; LUs are ${state.lus.map((candidate) => candidate.id).join(", ")}`);
  assert.ok(lu.extent_size_bytes > 0);
  return lu;
}

/** Volumes named in a refusal before "and N more": the line stays one line. */
const volumesNamedMax = 3;

/** How many extents of each volume an LU of `luIndexes` backs, or mirrors to. */
function extentsOn(state: StoreState__Output, luIndexes: ReadonlySet<number>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const volume of state.volumes) {
    const columns = volume.extents;
    if (columns === null) continue;
    let count = 0;
    columns.lu_index.forEach((luIndex, row) => {
      const mirror = (columns.mirror_lu_index_plus_one[row] ?? 0) - 1;
      if (luIndexes.has(luIndex) || luIndexes.has(mirror)) count += 1;
    });
    if (count > 0) counts.set(volume.name, count);
  }
  return counts;
}

/**
 * The LUs of external device `name`, checked for removal: refused unless no
 * extent lives on them or is mirrored to them, and no running migration is
 * moving a volume onto them. `state` must include the journal.
 */
export function checkRemoval(state: StoreState__Output, name: string): LogicalUnit__Output[] {
  checkDeviceName(name);
  const lus = state.lus.filter((lu) => lu.device_id === name);
  const externals = state.external_devices.map((device) => device.id);
  if (lus.length === 0) {
    throw new ControllerError("NOT_FOUND", `no external device ${name}; ${externals.length === 0 ? "none is registered" : `external devices are ${externals.join(", ")}`}`);
  }
  if (lus.some((lu) => !lu.external)) {
    throw new ControllerError("FAILED_PRECONDITION", `${name} is the Switchyard device, not an external one; only devices added with 'device add-external' can be removed`);
  }
  const counts = extentsOn(state, new Set(lus.map((lu) => lu.index)));
  if (counts.size > 0) {
    const named = [...counts].slice(0, volumesNamedMax).map(([volume, count]) => `${volume} (${count})`);
    const more = counts.size > volumesNamedMax ? ` and ${counts.size - volumesNamedMax} more` : "";
    const [first] = counts.keys();
    throw new ControllerError(
      "FAILED_PRECONDITION",
      `device ${name} still holds extents of volume ${named.join(", ")}${more}; move them off first, e.g. 'switchyard migrate ${first ?? ""} --to LU'`,
    );
  }
  const luIds = new Set(lus.map((lu) => lu.id));
  const incoming = state.journal.find((entry) => entry.kind === "migrate" && entry.state === "CHANGE_STATE_RUNNING" && luIds.has(entry.target_lu_id));
  if (incoming !== undefined) {
    throw new ControllerError("FAILED_PRECONDITION", `migration ${incoming.change_id} is moving extents onto ${incoming.target_lu_id}; wait for it or 'switchyard migrate cancel ${incoming.change_id}'`);
  }
  return lus;
}
