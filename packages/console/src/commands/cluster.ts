/** `switchyard cluster status`. */
import type { ApparatusStatus__Output, ClusterStatus__Output } from "@switchyard/proto";
import { clientOptions, clientOptionsHelp, withClient, type Command } from "../command.js";
import { printJson, printTable, type Io } from "../output.js";
import type { ClusterSnapshot } from "../web/snapshot-types.js";
import { formatBytes } from "../sizes.js";
import { flag, parse } from "../usage.js";

type ApparatusStateWord = "serving" | "held" | "fenced" | "down" | "unknown";

function stateWord(state: ApparatusStatus__Output): ApparatusStateWord {
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

/** The JSON contract of `cluster status --json`, for scripts. */
export function clusterStatusJson(status: ClusterStatus__Output): ClusterSnapshot {
  return {
    generation: status.generation,
    devices: status.devices.map((device) => ({
      id: device.id,
      grpc: device.grpc,
      lus: device.lus.map((lu) => ({
        id: lu.id,
        size_bytes: lu.size_bytes,
        extent_size_bytes: lu.extent_size_bytes,
        areas_total: lu.areas_total,
        areas_free: lu.areas_free,
      })),
    })),
    apparatuses: status.apparatuses.map((apparatus) => ({
      id: apparatus.id,
      nbd: apparatus.nbd,
      grpc: apparatus.grpc,
      pid: apparatus.pid,
      state: stateWord(apparatus.state),
      generation: apparatus.generation,
    })),
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
  };
}

function threadWords(threadId: number): string {
  return threadId === 0 ? "main thread" : `worker thread ${threadId}`;
}

function printStatus(io: Io, status: ClusterStatus__Output): void {
  const controller =
    status.controller === null
      ? "none"
      : `${status.controller.id} (epoch ${status.controller.epoch}, pid ${status.controller.pid}, ${threadWords(status.controller.thread_id)})`;
  io.stdout.write(`controller: ${controller}   table generation: ${status.generation}\n\n`);
  const luRows = status.devices.flatMap((device) =>
    device.lus.map((lu) => [device.id, lu.id, formatBytes(lu.size_bytes), formatBytes(lu.extent_size_bytes), `${lu.areas_free}/${lu.areas_total}`]),
  );
  printTable(io, ["DEVICE", "LU", "SIZE", "EXTENT", "FREE AREAS"], luRows);
  io.stdout.write("\n");
  printTable(
    io,
    ["APPARATUS", "STATE", "NBD", "GRPC", "PID", "GENERATION"],
    status.apparatuses.map((apparatus) => [
      apparatus.id,
      stateWord(apparatus.state),
      apparatus.nbd,
      apparatus.grpc,
      String(apparatus.pid),
      String(apparatus.generation),
    ]),
  );
}

export const clusterStatus: Command = {
  words: ["cluster", "status"],
  summary: "show devices, LUs, apparatuses and the controller",
  help: `Usage: switchyard cluster status [--dir DIR | --endpoint HOST:PORT] [--json]

Shows each device's LUs with free and total storage areas, each apparatus
with its state (serving, held, fenced, down) and table generation, and the
controller with its epoch.

Options:
${clientOptionsHelp}

Example:
  switchyard cluster status --json`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 0);
    const status = await withClient(parsed, (client) => client.clusterStatus());
    if (flag(parsed, "json")) printJson(io, clusterStatusJson(status));
    else printStatus(io, status);
    return 0;
  },
};
