/** `switchyard migrate` and `switchyard migrate cancel`. */
import { clientOptions, clientOptionsHelp, withClient, type Command } from "../command.js";
import { dataFormat, printData } from "../output.js";
import { parseSize } from "../sizes.js";
import { flag, parse, positional, requiredString, stringOption, UsageError, type Parsed } from "../usage.js";
import { changeJson, followChange } from "./change.js";

/** "--extents 4-9": the first extent and the end (exclusive); none given: every extent (end 0). */
export function extentRange(text: string | undefined): { firstExtent: number; endExtent: number } {
  if (text === undefined) return { firstExtent: 0, endExtent: 0 };
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  const first = Number(match?.[1]);
  const last = Number(match?.[2] ?? match?.[1]);
  if (match === null || !Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first || last >= 2 ** 32 - 1) {
    throw new UsageError(`--extents ${JSON.stringify(text)} must be an extent index or a range like 4-9`);
  }
  return { firstExtent: first, endExtent: last + 1 };
}

/** "200MiB/s" (or "200MiB"): bytes per second; none given: no limit (0). */
export function rateOption(text: string | undefined): number {
  if (text === undefined) return 0;
  const bytes = parseSize(text.replace(/\/s$/i, ""));
  if (bytes === undefined || bytes <= 0) throw new UsageError(`--rate ${JSON.stringify(text)} must be a size per second, like 200MiB/s`);
  return bytes;
}

/** The arguments of `migrate`, checked as the command line and the web console's form both give them. */
export function migrateArguments(parsed: Parsed): { volume: string; toLu: string; firstExtent: number; endExtent: number; rateBytesPerSecond: number } {
  const volume = positional(parsed, 0, "volume NAME");
  const toLu = requiredString(parsed, "to");
  return { volume, toLu, ...extentRange(stringOption(parsed, "extents")), rateBytesPerSecond: rateOption(stringOption(parsed, "rate")) };
}

export const migrate: Command = {
  words: ["migrate"],
  summary: "move a volume's extents to another LU while hosts do I/O, with progress",
  help: `Usage: switchyard migrate NAME --to LU|DEVICE:LU [--extents A-B] [--rate 200MiB/s] [--watch] [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Moves the volume's extents (all, or A to B) that are not on LU yet, in
mirror state, in batches: the device writes below each one's watermark to
both areas and copies it chunk by chunk itself (a chunk that hosts wrote
into while it was copied is copied again), and a change switches the
extents in sync to their copies.
That works between the device's LUs and onto or off an external device;
only between two external devices does a device copy one extent at a time
from one server to the other while its writes are held.
Hosts go on reading and writing through every apparatus. The copy progress
table is kept in the configuration store, and the device keeps its
watermarks, so the migration resumes after a crash of any part.

Without --watch it returns as soon as the migration has started and prints
its change id ({"id": ...} with --json); 'switchyard change show ID' shows its
progress table. With --watch it shows a progress bar (bytes, rate, time left)
until the migration ends (redrawn in place on a terminal, a line per update
when piped), and exits 0 only if it completed.

Options:
  --to LU               the LU to move the extents to: lu1, dev0:lu1, ext1:disk, or ext1 (a device with one LU)
  --extents A-B         only extents A to B (0 is the first); default: all
  --rate R              copies at most R per second on average (200MiB/s), chunks copied again
                        because hosts wrote into them included; default: no limit
  --watch               follow the migration until it ends
${clientOptionsHelp}

Example:
  switchyard migrate vm1 --to lu1 --rate 200MiB/s --watch
  switchyard migrate vm1 --to ext1:disk --watch`,
  async run(argv, io) {
    const parsed = parse(argv, { ...clientOptions, to: { type: "string" }, extents: { type: "string" }, rate: { type: "string" }, watch: { type: "boolean" } }, 1);
    const format = dataFormat(parsed);
    const request = migrateArguments(parsed);
    return withClient(parsed, async (client) => {
      const started = await client.submitMigrate(request);
      if (flag(parsed, "watch")) return followChange(client, started.id, io, format);
      if (format !== undefined) printData(io, format, { id: started.id });
      else io.stdout.write(`${started.id}\n`);
      return 0;
    });
  },
};

export const migrateCancel: Command = {
  words: ["migrate", "cancel"],
  summary: "stop a running migration: extents not yet switched stay where they are",
  help: `Usage: switchyard migrate cancel ID [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Stops the migration: extents already switched stay on the target, the
others go back to their sources alone, and the volume goes on working. Prints the
migration's final state and progress table.

Options:
${clientOptionsHelp}

Example:
  switchyard migrate cancel migrate-3-a1b2c3`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 1);
    const format = dataFormat(parsed);
    const id = positional(parsed, 0, "migration ID");
    const change = await withClient(parsed, (client) => client.cancelChange(id));
    if (format !== undefined) printData(io, format, changeJson(change));
    else io.stdout.write(`${change.id}: ${change.copied_bytes} of ${change.total_bytes} bytes moved; ${change.message}\n`);
    return 0;
  },
};
