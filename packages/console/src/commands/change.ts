/** `switchyard volume move | resize` and `switchyard change list | show`. */
import type { ChangeInfo__Output, ChangeState__Output, HoldMode__Output } from "@switchyard/proto";
import { clientOptions, clientOptionsHelp, withClient, type Command } from "../command.js";
import type { ConsoleClient } from "../controller-client.js";
import { dataFormat, formatDataUpdate, printData, printTable, progressBar, type DataFormat, type Io } from "../output.js";
import { ProgressLine, whileWaiting } from "../progress.js";
import { formatBytes } from "../sizes.js";
import { isEventRecord } from "../web/cluster-events.js";
import type { ChangeJson } from "../web/snapshot-types.js";
import { integerOption, parse, positional, requiredString, sizeOption, UsageError, type Parsed } from "../usage.js";

/** What a change's Hold held, as --json and the web console say it (ChangeJson.held). */
function heldWord(mode: HoldMode__Output): ChangeJson["held"] {
  switch (mode) {
    case "HOLD_MODE_WRITES":
      return "writes";
    case "HOLD_MODE_ALL":
      return "all";
    case "HOLD_MODE_NONE":
      return "nothing";
    case "HOLD_MODE_UNSPECIFIED":
      return null;
  }
}

function stateWord(state: ChangeState__Output): string {
  switch (state) {
    case "CHANGE_STATE_RUNNING":
      return "running";
    case "CHANGE_STATE_COMMITTED":
      return "committed";
    case "CHANGE_STATE_ABORTED":
      return "aborted";
    case "CHANGE_STATE_CANCELLED":
      return "cancelled";
    case "CHANGE_STATE_FAILED":
      return "failed";
    case "CHANGE_STATE_UNSPECIFIED":
      return "unknown";
  }
}

/** The JSON shape of a change, for scripts. */
export function changeJson(change: ChangeInfo__Output): ChangeJson {
  return {
    id: change.id,
    kind: change.kind,
    summary: change.summary,
    state: stateWord(change.state),
    message: change.message,
    base_generation: change.base_generation,
    epoch: change.epoch,
    started_at: new Date(change.started_at_ms).toISOString(),
    ended_at: change.ended_at_ms === 0 ? null : new Date(change.ended_at_ms).toISOString(),
    phases: change.phases.map((phase) => ({ phase: phase.phase, started_at_ms: phase.started_at_ms, elapsed_ms: phase.elapsed_ms })),
    reports: change.reports.map((report) => ({ phase: report.phase, apparatus: report.apparatus_id, ok: report.ok, message: report.message, elapsed_ms: report.elapsed_ms })),
    fenced: change.fenced,
    held: heldWord(change.hold_mode),
    copied_bytes: change.copied_bytes,
    total_bytes: change.total_bytes,
    hole_bytes_skipped: change.hole_bytes_skipped,
    chunks_copied_again: change.chunks_copied_again,
    copy_progress: change.copy_progress.map((row) => ({
      volume: row.volume,
      extent_index: row.extent_index,
      source: `${row.source_lu_id}:${row.source_area_index}`,
      // Where it goes is known once its area is taken, when it is moved.
      destination: row.state === "done" ? `${row.destination_lu_id}:${row.destination_area_index}` : row.destination_lu_id,
      watermark_bytes: row.watermark_bytes,
      hole_bytes_skipped: row.hole_bytes_skipped,
      chunks_copied_again: row.chunks_copied_again,
      state: row.state,
    })),
  };
}

/** Rows of a migration's copy progress table `change show` lists; --json has them all. */
export const progressRowsShownMax = 20;

function printChange(io: Io, change: ChangeInfo__Output): void {
  io.stdout.write(`change ${change.id}: ${stateWord(change.state)} — ${change.summary}\n`);
  if (change.message !== "") io.stdout.write(`  ${change.message}\n`);
  if (change.fenced.length > 0) io.stdout.write(`  fenced: ${change.fenced.join(", ")}\n`);
  if (change.hold_mode === "HOLD_MODE_NONE") io.stdout.write("  held: nothing (every area it touched is one device's, whose mirror took both faces' I/O until the commit)\n");
  // A migration has no phases of its own (its moves and switches do, each a change of its own): its copy instead.
  if (change.total_bytes > 0) printCopy(io, change);
  if (change.phases.length === 0 && change.reports.length === 0) return;
  io.stdout.write(`  phases: ${change.phases.map((phase) => `${phase.phase} ${phase.elapsed_ms} ms`).join(", ")}\n`);
  printTable(
    io,
    ["PHASE", "APPARATUS", "OK", "MS", "MESSAGE"],
    change.reports.map((report) => [report.phase, report.apparatus_id, report.ok ? "yes" : "no", String(report.elapsed_ms), report.message]),
  );
}

/** "copied: [###…] 100% …", the extents by state, and those not done, the first progressRowsShownMax of them. */
function printCopy(io: Io, change: ChangeInfo__Output): void {
  io.stdout.write(`  copied: ${copyProgress(change, Date.now())}\n`);
  const byState = new Map<string, number>();
  for (const row of change.copy_progress) byState.set(row.state, (byState.get(row.state) ?? 0) + 1);
  io.stdout.write(`  ${change.copy_progress.length} extent${change.copy_progress.length === 1 ? "" : "s"}: ${[...byState].map(([state, count]) => `${count} ${state}`).join(", ")}\n`);
  const notDone = changeJson(change).copy_progress.filter((row) => row.state !== "done");
  if (notDone.length === 0) return;
  printTable(
    io,
    ["EXTENT", "SOURCE", "DESTINATION", "COPIED", "STATE"],
    notDone.slice(0, progressRowsShownMax).map((row) => [String(row.extent_index), row.source, row.destination, formatBytes(row.watermark_bytes), row.state]),
  );
  if (notDone.length > progressRowsShownMax) io.stdout.write(`  … and ${notDone.length - progressRowsShownMax} more not done; --json lists every extent\n`);
}

/** Prints a finished change and returns its exit code: 1 unless it committed. */
function reportChange(io: Io, change: ChangeInfo__Output, format: DataFormat | undefined): number {
  if (format !== undefined) printData(io, format, changeJson(change));
  else printChange(io, change);
  if (change.state === "CHANGE_STATE_COMMITTED") return 0;
  if (format === undefined) io.stderr.write(`switchyard: change ${change.id} did not commit: ${change.message}\n`);
  return 1;
}

/** The checks of `volume move`'s arguments, shared with the web console's form so both say the same. */
export function volumeMoveArguments(parsed: Parsed): { name: string; extentIndex: number; toLu: string } {
  const name = positional(parsed, 0, "volume NAME");
  const extentIndex = integerOption(parsed, "extent", -1, 0, 2 ** 32 - 1);
  if (extentIndex < 0) throw new UsageError("--extent is required (for example --extent 0)");
  return { name, extentIndex, toLu: requiredString(parsed, "to") };
}

export const volumeMove: Command = {
  words: ["volume", "move"],
  summary: "move one extent of a volume to another LU while hosts do I/O",
  help: `Usage: switchyard volume move NAME --extent I --to LU|DEVICE:LU [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Moves virtual extent I to a free area of LU while hosts do I/O, as a
migration of one extent: a change puts it in mirror state, the device copies
it in 1 MiB chunks (a write into the chunk being copied does not wait: the
chunk is copied again; writes below the copy go to both areas), and a change switches every
apparatus to the new area and frees the old one. Onto or off an external
device (switchyard device add-external) the device copies over NBD. Prints
the move with its phases (mirror, copy, switch) and each apparatus's reports;
exits 1 if it did not complete (the extent then stays where it was).

Options:
  --extent I            the extent's index (0 is the first 4 MiB with default extents)
  --to LU               the LU to move it to: lu1, dev0:lu1, ext1:disk, or ext1 (a device with one LU)
${clientOptionsHelp}

Example:
  switchyard volume move vm1 --extent 0 --to lu1`,
  async run(argv, io) {
    const parsed = parse(argv, { ...clientOptions, extent: { type: "string" }, to: { type: "string" } }, 1);
    const format = dataFormat(parsed);
    const { name, extentIndex, toLu } = volumeMoveArguments(parsed);
    const change = await withClient(parsed, (client) => whileWaiting(io, `moving extent ${extentIndex} of ${name} to ${toLu}`, client.submitMove(name, extentIndex, toLu)));
    return reportChange(io, change, format);
  },
};

export const volumeResize: Command = {
  words: ["volume", "resize"],
  summary: "grow or shrink a volume while hosts do I/O",
  help: `Usage: switchyard volume resize NAME --size SIZE [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Grows a volume onto new (zeroed) areas, or shrinks it and frees the areas
past its new end. I/O on the changing tail is held during the change.
Hosts see the new size when they connect again.

Options:
  --size SIZE           the new size (512MiB, 2GiB, ...; a multiple of 512)
${clientOptionsHelp}

Example:
  switchyard volume resize vm1 --size 2GiB`,
  async run(argv, io) {
    const parsed = parse(argv, { ...clientOptions, size: { type: "string" } }, 1);
    const format = dataFormat(parsed);
    const name = positional(parsed, 0, "volume NAME");
    const sizeBytes = sizeOption(parsed, "size");
    if (sizeBytes === undefined) throw new UsageError("--size is required (for example --size 2GiB)");
    const change = await withClient(parsed, (client) => whileWaiting(io, `resizing ${name} to ${formatBytes(sizeBytes)}`, client.submitResize(name, sizeBytes)));
    return reportChange(io, change, format);
  },
};

export const changeList: Command = {
  words: ["change", "list"],
  summary: "list configuration changes, newest last",
  help: `Usage: switchyard change list [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Lists the changes in the journal and those running, with their state.

Options:
${clientOptionsHelp}

Example:
  switchyard change list --json
  switchyard change list -o yaml`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 0);
    const format = dataFormat(parsed);
    // The controller's event records are the console's events panel's, not changes.
    const changes = (await withClient(parsed, (client) => client.listChanges())).filter((change) => !isEventRecord(change));
    if (format !== undefined) {
      printData(io, format, changes.map(changeJson));
      return 0;
    }
    printTable(
      io,
      ["ID", "STATE", "MS", "SUMMARY"],
      changes.map((change) => [change.id, stateWord(change.state), change.ended_at_ms === 0 ? "" : String(change.ended_at_ms - change.started_at_ms), change.summary]),
    );
    return 0;
  },
};

export const changeShow: Command = {
  words: ["change", "show"],
  summary: "show one change: each phase with its timing, each apparatus's reports, the fenced ones",
  help: `Usage: switchyard change show ID [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Options:
${clientOptionsHelp}

Example:
  switchyard change show move-2-a1b2c3`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 1);
    const format = dataFormat(parsed);
    const id = positional(parsed, 0, "change ID");
    const change = await withClient(parsed, (client) => client.getChange(id));
    if (format !== undefined) printData(io, format, changeJson(change));
    else printChange(io, change);
    return 0;
  },
};

/**
 * "[####....]  40% 16 MiB of 40 MiB, 52 MiB/s, 0.5 s left, 12 MiB of holes
 * skipped, 3 chunks copied again": a copy's progress, its rate, what
 * remains, the holes not written, and the chunks copied again because host
 * writes went into them meanwhile.
 */
function copyProgress(change: ChangeInfo__Output, nowMs: number): string {
  const elapsedSeconds = Math.max(0.001, ((change.ended_at_ms === 0 ? nowMs : change.ended_at_ms) - change.started_at_ms) / 1000);
  const rateBytesPerSecond = change.copied_bytes / elapsedSeconds;
  const left = rateBytesPerSecond > 0 && change.state === "CHANGE_STATE_RUNNING" ? `, ${((change.total_bytes - change.copied_bytes) / rateBytesPerSecond).toFixed(1)} s left` : "";
  const holes = change.hole_bytes_skipped > 0 ? `, ${formatBytes(change.hole_bytes_skipped)} of holes skipped` : "";
  const again = change.chunks_copied_again > 0 ? `, ${change.chunks_copied_again} chunk${change.chunks_copied_again === 1 ? "" : "s"} copied again` : "";
  return `${progressBar(change.copied_bytes / change.total_bytes)} ${formatBytes(change.copied_bytes)} of ${formatBytes(change.total_bytes)}, ${formatBytes(Math.round(rateBytesPerSecond))}/s${left}${holes}${again}`;
}

/** One line of `change watch`: the state, where the change is, its reports so far, and a bar when it copies. */
function watchLine(change: ChangeInfo__Output): string {
  const where = change.message === "" ? "" : ` (${change.message})`;
  const done = change.phases.filter((phase) => phase.elapsed_ms > 0 || change.state !== "CHANGE_STATE_RUNNING").map((phase) => `${phase.phase} ${phase.elapsed_ms} ms`);
  const fenced = change.fenced.length > 0 ? `  fenced: ${change.fenced.join(", ")}` : "";
  const phases = `phases: ${done.join(", ") || "none yet"}  reports: ${change.reports.length}${fenced}`;
  if (change.total_bytes === 0) return `${stateWord(change.state)}${where}  ${phases}`;
  // A migration has no phases of its own; a move (a migration of one extent) has its changes' and its copy's.
  const copied = `${stateWord(change.state)}${where}  ${copyProgress(change, Date.now())}`;
  return change.phases.length === 0 ? copied : `${copied}  ${phases}`;
}

/** Prints the change at every update until it ends (a JSON line or a YAML document each with `format`); its exit code: 0 when it committed. */
export async function followChange(client: ConsoleClient, id: string, io: Io, format: DataFormat | undefined): Promise<number> {
  let last: ChangeInfo__Output | undefined;
  const line = new ProgressLine(io.stdout);
  for await (const change of client.watchChange(id)) {
    last = change;
    if (format !== undefined) io.stdout.write(formatDataUpdate(format, changeJson(change)));
    else line.update(`${new Date().toISOString().slice(11, 23)}  ${change.id}  ${watchLine(change)}`);
  }
  line.finish();
  if (last === undefined) throw new Error(`the controller ended the watch of ${id} without a word; try 'switchyard change show ${id}'`);
  if (last.state === "CHANGE_STATE_COMMITTED") return 0;
  io.stderr.write(`switchyard: change ${last.id} did not commit: ${last.message}\n`);
  return 1;
}

export const changeWatch: Command = {
  words: ["change", "watch"],
  summary: "follow a change live until it ends: phases, reports, copy progress",
  help: `Usage: switchyard change watch ID [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Prints the change now and again whenever it moves on (a phase ends, an
apparatus reports, a copy progresses), until it ends: on a terminal one line
redrawn in place, piped a new line each time. Exits 0 when it
committed, 1 when it aborted, failed or was cancelled. With --json, one JSON
object per line (the shape of 'change show --json'); with --output yaml, one
YAML document per update, each opened by '---'.

Options:
${clientOptionsHelp}

Example:
  switchyard change watch move-2-a1b2c3`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 1);
    const format = dataFormat(parsed);
    const id = positional(parsed, 0, "change ID");
    return withClient(parsed, (client) => followChange(client, id, io, format));
  },
};
