/** `switchyard cluster status` and `switchyard device list`. */
import type { ApparatusStatus__Output, ApparatusSummary__Output, ClusterStatus__Output, DeviceStatus__Output } from "@switchyard/proto";
import { clientOptions, clientOptionsHelp, withClient, type Command } from "../command.js";
import { dataFormat, printData, printTable, type Io } from "../output.js";
import type { ApparatusSnapshot, ClusterSnapshot, CoordinationSnapshot, DeviceSnapshot } from "../web/snapshot-types.js";
import { formatBytes } from "../sizes.js";
import { parse } from "../usage.js";

type ApparatusStateWord = "serving" | "held" | "fenced" | "down" | "unknown";

export function stateWord(state: ApparatusStatus__Output): ApparatusStateWord {
  switch (state) {
    case "APPARATUS_STATUS_SERVING":
      return "serving";
    case "APPARATUS_STATUS_HELD":
      return "held";
    case "APPARATUS_STATUS_FENCED":
      return "fenced";
    case "APPARATUS_STATUS_DOWN":
      return "down";
    case "APPARATUS_STATUS_UNSPECIFIED":
      return "unknown";
  }
}

/** One device and its LUs as `device list --json`, `cluster status --json` and `device add-external --json` show it. */
export function deviceJson(device: DeviceStatus__Output): DeviceSnapshot {
  return {
    id: device.id,
    grpc: device.grpc,
    external: device.external,
    nbd_uri: device.nbd_uri,
    lus: device.lus.map((lu) => ({
      id: lu.id,
      size_bytes: lu.size_bytes,
      extent_size_bytes: lu.extent_size_bytes,
      areas_total: lu.areas_total,
      areas_free: lu.areas_free,
      used_bytes: (lu.areas_total - lu.areas_free) * lu.extent_size_bytes,
      free_bytes: lu.areas_free * lu.extent_size_bytes,
    })),
  };
}

function devicesJson(status: ClusterStatus__Output): DeviceSnapshot[] {
  return status.devices.map(deviceJson);
}

/** The JSON contract of `cluster status --json`, for scripts. */
export function clusterStatusJson(status: ClusterStatus__Output): ClusterSnapshot {
  return {
    generation: status.generation,
    devices: devicesJson(status),
    apparatuses: status.apparatuses.map(apparatusJson),
    controller:
      status.controller === null
        ? null
        : {
            id: status.controller.id,
            epoch: status.controller.epoch,
            lease_expires_at: new Date(status.controller.lease_expires_at_ms).toISOString(),
            pid: status.controller.pid,
            thread_id: status.controller.thread_id,
          },
    coordination: coordinationJson(status.coordination),
  };
}

function coordinationJson(coordination: ClusterStatus__Output["coordination"]): CoordinationSnapshot {
  if (coordination === null) return { backend: "unknown", members: [] };
  return { backend: coordination.backend, members: coordination.members.map(({ name, endpoint, healthy, leader }) => ({ name, endpoint, healthy, leader })) };
}

/** "etcd: etcd0 (leader), etcd1, etcd2 (unhealthy)": the backend and how each member is. */
export function coordinationLine(coordination: CoordinationSnapshot): string {
  const members = coordination.members.map((member) => {
    const notes = [...(member.leader ? ["leader"] : []), ...(member.healthy ? [] : ["unhealthy"])];
    return notes.length === 0 ? member.name : `${member.name} (${notes.join(", ")})`;
  });
  return `${coordination.backend}: ${members.length === 0 ? "no members known" : members.join(", ")}`;
}

function threadWords(threadId: number): string {
  return threadId === 0 ? "main thread" : `worker thread ${threadId}`;
}

/** The table rows of devices' LUs; an external device's row ends with where it is served. */
export function luRows(devices: readonly DeviceStatus__Output[]): string[][] {
  return devices.flatMap((device) =>
    device.lus.map((lu) => [
      device.id,
      lu.id,
      formatBytes(lu.size_bytes),
      formatBytes(lu.extent_size_bytes),
      formatBytes((lu.areas_total - lu.areas_free) * lu.extent_size_bytes),
      formatBytes(lu.areas_free * lu.extent_size_bytes),
      `${lu.areas_free}/${lu.areas_total}`,
      device.external ? device.nbd_uri : "-",
    ]),
  );
}

export const luHeader = ["DEVICE", "LU", "SIZE", "EXTENT", "USED", "FREE", "FREE AREAS", "EXTERNAL NBD"];

function printStatus(io: Io, status: ClusterStatus__Output): void {
  const controller =
    status.controller === null
      ? "none"
      : `${status.controller.id} (epoch ${status.controller.epoch}, pid ${status.controller.pid}, ${threadWords(status.controller.thread_id)})`;
  io.stdout.write(`controller: ${controller}   table generation: ${status.generation}\n`);
  io.stdout.write(`coordination: ${coordinationLine(coordinationJson(status.coordination))}\n\n`);
  printTable(io, luHeader, luRows(status.devices));
  io.stdout.write("\n");
  printApparatuses(io, status.apparatuses);
}

export function printApparatuses(io: Io, apparatuses: readonly ApparatusSummary__Output[]): void {
  printTable(
    io,
    ["APPARATUS", "STATE", "NBD", "GRPC", "PID", "GENERATION"],
    apparatuses.map((apparatus) => [
      apparatus.id,
      stateWord(apparatus.state),
      apparatus.nbd,
      apparatus.grpc,
      String(apparatus.pid),
      String(apparatus.generation),
    ]),
  );
}

/** One apparatus as `apparatus list --json` and `cluster status --json` show it. */
export function apparatusJson(apparatus: ApparatusSummary__Output): ApparatusSnapshot {
  return { id: apparatus.id, nbd: apparatus.nbd, grpc: apparatus.grpc, pid: apparatus.pid, state: stateWord(apparatus.state), generation: apparatus.generation };
}

export const clusterStatus: Command = {
  words: ["cluster", "status"],
  summary: "show devices, LUs, apparatuses and the controller",
  help: `Usage: switchyard cluster status [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Shows each device's LUs with free and total storage areas, each apparatus
with its state (serving, held, fenced, down) and table generation, and the
controller with its epoch.

Options:
${clientOptionsHelp}

Example:
  switchyard cluster status --json
  switchyard cluster status --output yaml`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 0);
    const format = dataFormat(parsed);
    const status = await withClient(parsed, (client) => client.clusterStatus());
    if (format !== undefined) printData(io, format, clusterStatusJson(status));
    else printStatus(io, status);
    return 0;
  },
};

export const deviceList: Command = {
  words: ["device", "list"],
  summary: "list storage devices and their LUs with used and free space",
  help: `Usage: switchyard device list [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Lists each storage device with its LUs: size, storage area (extent) size,
bytes used by volumes and free, and free areas out of all. An external
device (switchyard device add-external) shows the NBD server it is.

Options:
${clientOptionsHelp}

Example:
  switchyard device list --json`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 0);
    const format = dataFormat(parsed);
    const status = await withClient(parsed, (client) => client.clusterStatus());
    if (format !== undefined) printData(io, format, devicesJson(status));
    else printTable(io, luHeader, luRows(status.devices));
    return 0;
  },
};
