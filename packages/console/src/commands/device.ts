/** `switchyard device add-external` and `device remove-external`: any NBD server as a storage device (issue 5, "External storage"). */
import type { DeviceStatus__Output } from "@switchyard/proto";
import { clientOptions, clientOptionsHelp, withClient, type Command } from "../command.js";
import { dataFormat, printData, type Io } from "../output.js";
import { formatBytes } from "../sizes.js";
import { parse, positional, sizeOption, UsageError } from "../usage.js";
import { deviceJson } from "./cluster.js";

/** Caught here rather than by the controller: a URI that is not even nbd:// is a typing slip, said at once. */
function nbdUriArgument(text: string): string {
  if (!text.startsWith("nbd://")) throw new UsageError(`${JSON.stringify(text)} is not an NBD URI; give nbd://HOST:PORT/EXPORT, e.g. nbd://127.0.0.1:10900/disk`);
  return text;
}

function printAdded(io: Io, device: DeviceStatus__Output): void {
  for (const lu of device.lus) {
    io.stdout.write(
      `added external device ${device.id} (${device.nbd_uri}): LU ${lu.id}, ${formatBytes(lu.size_bytes)} in ${lu.areas_total} areas of ${formatBytes(lu.extent_size_bytes)}\n`,
    );
  }
}

export const deviceAddExternal: Command = {
  words: ["device", "add-external"],
  summary: "register an NBD server (nbdkit, qemu-nbd, ...) as a storage device",
  help: `Usage: switchyard device add-external NAME nbd://HOST:PORT[/EXPORT] [--extent-size SIZE] [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Registers the NBD server's export as device NAME with one LU, NAME:EXPORT
(NAME:default when the URI names no export). The controller connects to it
first and reads its size, which must be a whole number of storage areas.
Nothing changes if it cannot: the line printed says why. Its areas are
tracked in the configuration store, since the server has no metadata area.
Volumes move onto it and off it with 'switchyard migrate NAME --to DEVICE:LU'
or 'volume move'; every apparatus reaches it over NBD.

The server knows nothing of fencing: a fenced apparatus is kept off it by
its own lease only (see docs/design-notes.md).

Options:
  --extent-size SIZE    storage area size (default: the cluster's, 4MiB unless 'up' was told otherwise)
${clientOptionsHelp}

The example registers a file that 'nbdkit --port 10900 file /srv/disk.img'
serves, and moves volume vm1 onto it.

Example:
  switchyard device add-external ext1 nbd://127.0.0.1:10900/disk
  switchyard migrate vm1 --to ext1:disk --watch`,
  async run(argv, io) {
    const parsed = parse(argv, { ...clientOptions, "extent-size": { type: "string" } }, 2);
    const format = dataFormat(parsed);
    const name = positional(parsed, 0, "device NAME");
    const nbdUri = nbdUriArgument(positional(parsed, 1, "nbd://HOST:PORT/EXPORT of the NBD server"));
    const extentSizeBytes = sizeOption(parsed, "extent-size") ?? 0;
    if (parsed.values["extent-size"] !== undefined && extentSizeBytes <= 0) throw new UsageError("--extent-size must be more than 0 bytes");
    const device = await withClient(parsed, (client) => client.addExternalDevice(name, nbdUri, extentSizeBytes));
    if (device === null) throw new Error("the controller answered add-external without the device");
    if (format !== undefined) printData(io, format, deviceJson(device));
    else printAdded(io, device);
    return 0;
  },
};

export const deviceRemoveExternal: Command = {
  words: ["device", "remove-external"],
  summary: "forget an external device that no volume uses any more",
  help: `Usage: switchyard device remove-external NAME [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Forgets external device NAME: its LU leaves the configuration table, and
every apparatus closes its connection to the server. The server and its data
are left as they are. Refused, with nothing changed, while an extent of any
volume lives on the device or is being copied onto it: migrate those volumes
off first, or cancel the migration that moves one on.
${clientOptionsHelp}

Example:
  switchyard migrate vm1 --to lu0 --watch
  switchyard device remove-external ext1`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 1);
    const format = dataFormat(parsed);
    const name = positional(parsed, 0, "device NAME");
    const device = await withClient(parsed, (client) => client.removeExternalDevice(name));
    if (device === null) throw new Error("the controller answered remove-external without the device");
    if (format !== undefined) printData(io, format, deviceJson(device));
    else io.stdout.write(`removed external device ${device.id} (${device.nbd_uri}); the server and its data are untouched\n`);
    return 0;
  },
};
