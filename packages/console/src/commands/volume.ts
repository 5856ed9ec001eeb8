/** `switchyard volume create | list | show | delete`. */
import type { VolumeInfo__Output } from "@switchyard/proto";
import { clientOptions, clientOptionsHelp, withClient, type Command } from "../command.js";
import { dataFormat, printData, printTable, type Io } from "../output.js";
import { formatBytes } from "../sizes.js";
import { parse, positional, sizeOption, stringOption, UsageError, type Parsed } from "../usage.js";

/** Extents of a volume as runs of consecutive areas on one LU: "lu0:0-255, lu1:3". */
function placementSummary(volume: VolumeInfo__Output): string {
  const runs: string[] = [];
  let start = 0;
  for (let index = 1; index <= volume.extents.length; index += 1) {
    const previous = volume.extents[index - 1];
    const current = volume.extents[index];
    const continues = current !== undefined && previous !== undefined && current.lu === previous.lu && current.area === previous.area + 1;
    if (continues) continue;
    const first = volume.extents[start];
    if (first !== undefined && previous !== undefined) {
      runs.push(first.area === previous.area ? `${first.lu}:${first.area}` : `${first.lu}:${first.area}-${previous.area}`);
    }
    start = index;
  }
  return runs.join(", ");
}

function printVolumes(io: Io, volumes: readonly VolumeInfo__Output[]): void {
  printTable(
    io,
    ["NAME", "SIZE", "EXTENTS", "AREAS"],
    volumes.map((volume) => [volume.name, formatBytes(volume.size_bytes), String(volume.extents.length), placementSummary(volume)]),
  );
}

/** The checks of `volume create`'s arguments, shared with the web console's form so both say the same. */
export function volumeCreateArguments(parsed: Parsed): { name: string; sizeBytes: number; lu: string } {
  const name = positional(parsed, 0, "volume NAME");
  const sizeBytes = sizeOption(parsed, "size");
  if (sizeBytes === undefined) throw new UsageError("--size is required (for example --size 1GiB)");
  return { name, sizeBytes, lu: stringOption(parsed, "lu") ?? "" };
}

export const volumeCreate: Command = {
  words: ["volume", "create"],
  summary: "create a virtual volume on free storage areas",
  help: `Usage: switchyard volume create NAME --size SIZE [--lu LU] [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Creates a volume of SIZE bytes (512MiB, 1GiB, ...; a multiple of 512), on
free areas of LU (default: the LU with the most free areas, then others).
Every apparatus serves it as the NBD export NAME.

Options:
  --size SIZE           volume size (required)
  --lu LU               put every extent on this LU
${clientOptionsHelp}

Example:
  switchyard volume create vm1 --size 1GiB
  qemu-img info nbd://127.0.0.1:10809/vm1`,
  async run(argv, io) {
    const parsed = parse(argv, { ...clientOptions, size: { type: "string" }, lu: { type: "string" } }, 1);
    const format = dataFormat(parsed);
    const { name, sizeBytes, lu } = volumeCreateArguments(parsed);
    const volume = await withClient(parsed, (client) => client.createVolume(name, sizeBytes, lu));
    if (format !== undefined) printData(io, format, volume);
    else io.stdout.write(`created volume ${volume.name}: ${formatBytes(volume.size_bytes)} in ${volume.extents.length} extents (${placementSummary(volume)})\n`);
    return 0;
  },
};

export const volumeList: Command = {
  words: ["volume", "list"],
  summary: "list volumes and where their extents live",
  help: `Usage: switchyard volume list [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Lists every volume with its size and the storage areas behind its extents.
--json prints [{"name", "size_bytes", "extents": [{"index", "lu", "area"}]}].

Options:
${clientOptionsHelp}

Example:
  switchyard volume list --json`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 0);
    const format = dataFormat(parsed);
    const volumes = await withClient(parsed, (client) => client.listVolumes());
    if (format !== undefined) printData(io, format, volumes);
    else printVolumes(io, volumes);
    return 0;
  },
};

export const volumeShow: Command = {
  words: ["volume", "show"],
  summary: "show one volume's extent map",
  help: `Usage: switchyard volume show NAME [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Shows a volume's size and, per extent, the LU and area behind it.

Options:
${clientOptionsHelp}

Example:
  switchyard volume show vm1`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 1);
    const format = dataFormat(parsed);
    const name = positional(parsed, 0, "volume NAME");
    const volume = await withClient(parsed, (client) => client.getVolume(name));
    if (format !== undefined) {
      printData(io, format, volume);
      return 0;
    }
    io.stdout.write(`volume ${volume.name}: ${formatBytes(volume.size_bytes)}, extents of ${formatBytes(volume.extent_size_bytes)}\n`);
    printTable(io, ["EXTENT", "LU", "AREA"], volume.extents.map((extent) => [String(extent.index), extent.lu, String(extent.area)]));
    return 0;
  },
};

export const volumeDelete: Command = {
  words: ["volume", "delete"],
  summary: "delete a volume and free its areas",
  help: `Usage: switchyard volume delete NAME [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Deletes a volume: every apparatus stops serving it (I/O in flight finishes
first) and its storage areas become free. Its data is gone.

Options:
${clientOptionsHelp}

Example:
  switchyard volume delete vm1`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 1);
    const format = dataFormat(parsed);
    const name = positional(parsed, 0, "volume NAME");
    await withClient(parsed, (client) => client.deleteVolume(name));
    if (format !== undefined) printData(io, format, { deleted: name });
    else io.stdout.write(`deleted volume ${name}\n`);
    return 0;
  },
};
