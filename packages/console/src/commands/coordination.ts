/**
 * `switchyard coordination export | import` (issue 18 item 4): moving an
 * appliance that grew onto etcd without rebuilding it. export reads a
 * stopped device's configuration store and its arbiter's highest epoch, and
 * import puts them into an empty etcd key prefix (importStoreToEtcd raises
 * etcd's revision above that epoch first, so every etcd token is above
 * every epoch the device granted). `up --dir DIR --etcd URLS` then finds the
 * prefix seeded and uses it as it is.
 *
 * The export document is JSON around the StoreState protobuf in base64:
 * those bytes are the store's one format, the device's and etcd's alike, so
 * they round-trip exactly and no second mapping of the state has to keep in
 * step with the .proto. The readable fields beside them are a summary that
 * import checks against the bytes (an edited file is refused).
 */
import { readFile, writeFile } from "node:fs/promises";
import { importStoreToEtcd, isCoordinationError, keyPrefixLengthMax, storeBytesMax } from "@switchyard/coordination";
import { NotFoundError, readStoppedDevice, type DeviceReading } from "@switchyard/device";
import { decodeStoreState, encodeStoreState, type StoreState__Output } from "@switchyard/proto";
import { applianceEtcdKeyPrefix, etcdOption } from "../appliance-etcd.js";
import type { Command } from "../command.js";
import { defaultDataDir } from "../endpoints.js";
import { dataFormat, outputOptions, outputOptionsHelp, printData, type DataFormat, type Io } from "../output.js";
import { parse, stringOption, UsageError, type Parsed } from "../usage.js";
import { refuseIfServed } from "./up.js";

export const exportFormatName = "switchyard-coordination-export";
export const exportFormatVersion = 1;
/**
 * The largest export file import reads: the store's bytes in base64 (4/3 of
 * etcd's one-write limit, storeBytesMax) and a summary of a few kilobytes.
 * A bigger file cannot hold a store etcd would take.
 */
export const exportFileBytesMax = Math.ceil((storeBytesMax * 4) / 3) + 64 * 1024;

/** What an export says about the store, for people and for import's check. */
export interface StoreSummary {
  readonly generation: number;
  readonly volumes: readonly string[];
  readonly journal_entries: number;
}

/** The export document, as written to FILE or stdout. */
export interface ExportDocument extends StoreSummary {
  readonly format: typeof exportFormatName;
  readonly format_version: number;
  readonly device_id: string;
  /** The device arbiter's highest epoch: every etcd token must be above it. */
  readonly highest_epoch: number;
  readonly store_sequence: number;
  /** The StoreState protobuf, as the device and etcd store it, in base64. */
  readonly store_state: string;
}

function summaryOf(state: StoreState__Output): StoreSummary {
  return { generation: state.generation, volumes: state.volumes.map((volume) => volume.name), journal_entries: state.journal.length };
}

/** The stopped device in `dir`, read only: a folder without a device is the user's to fix (exit 2). */
async function readDevice(dir: string): Promise<DeviceReading> {
  await refuseIfServed(dir);
  return readStoppedDevice(dir).catch((error: unknown) => {
    if (error instanceof NotFoundError) throw new UsageError(`${error.message}; give the data folder of a stopped 'switchyard up'`);
    throw error;
  });
}

function exportDocument(reading: DeviceReading): ExportDocument {
  return {
    format: exportFormatName,
    format_version: exportFormatVersion,
    device_id: reading.deviceId,
    highest_epoch: reading.highestEpoch,
    store_sequence: reading.sequence,
    ...summaryOf(reading.state),
    store_state: Buffer.from(encodeStoreState(reading.state)).toString("base64"),
  };
}

function printExported(io: Io, format: DataFormat | undefined, document: ExportDocument, out: string): void {
  if (format !== undefined) {
    const { device_id, highest_epoch, store_sequence, generation, volumes, journal_entries } = document;
    printData(io, format, { out, device_id, highest_epoch, store_sequence, generation, volumes, journal_entries });
    return;
  }
  io.stdout.write(
    `exported device ${document.device_id}'s store to ${out}: ${volumesText(document.volumes)}, generation ${document.generation}, ` +
      `${document.journal_entries} journal entries, highest epoch ${document.highest_epoch}\n`,
  );
}

function volumesText(volumes: readonly string[]): string {
  return volumes.length === 0 ? "no volumes" : `${volumes.length} volume(s) (${volumes.join(", ")})`;
}

export const coordinationExport: Command = {
  words: ["coordination", "export"],
  summary: "write a stopped appliance's configuration store to a file, for 'coordination import'",
  help: `Usage: switchyard coordination export [--dir DIR] [--out FILE] [--output table|json|yaml]

Reads the configuration store of the stopped appliance in DIR (volumes,
their extent tables, the change journal, copy progress, apparatus records)
and its arbiter's highest epoch, and writes them as one JSON document to
FILE, or to stdout without --out. Every file in DIR is only read. Refused
while DIR/endpoints.json names a live process: stop 'switchyard up' first.

The document holds the store as its protobuf bytes in base64, the format
the device and etcd both keep, so it comes back exactly; the volume names,
generation and journal count beside it are a summary for people, which
import checks against the bytes.

Options:
  --dir DIR             the data folder of a stopped 'switchyard up' (default ./${defaultDataDir})
  --out FILE            where to write the document (default: stdout, as JSON); with it, stdout
                        gets a summary in the --output format
${outputOptionsHelp}

Example:
  switchyard coordination export --dir ./switchyard-data --out store.json
  switchyard coordination import --etcd http://127.0.0.1:2379 --from store.json`,
  async run(argv, io) {
    const parsed = parse(argv, { dir: { type: "string" }, out: { type: "string" }, ...outputOptions }, 0);
    const format = dataFormat(parsed);
    const dir = stringOption(parsed, "dir") ?? defaultDataDir;
    const out = stringOption(parsed, "out");
    if (out === "") throw new UsageError("--out needs a file name");
    if (out === undefined && format === "yaml") throw new UsageError("without --out the document itself is printed, as JSON; give --out FILE for a YAML summary");
    const document = exportDocument(await readDevice(dir));
    const storeBytes = Buffer.byteLength(document.store_state, "base64");
    // Still written (a copy of the store is worth having), but said at once rather than at import.
    if (storeBytes > storeBytesMax) io.stderr.write(`switchyard coordination export: the store is ${storeBytes} bytes, over the ${storeBytesMax} bytes one etcd write takes: import will refuse it\n`);
    const text = `${JSON.stringify(document, null, 2)}\n`;
    if (out === undefined) {
      io.stdout.write(text);
      return 0;
    }
    await writeFile(out, text, { encoding: "utf8" });
    printExported(io, format, document, out);
    return 0;
  },
};

/** What import needs of a device's reading or of an export file. */
type ImportSource = Pick<DeviceReading, "state" | "highestEpoch" | "deviceId">;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An export file read back: its format, the store's bytes, and the summary checked against them. */
async function readExportFile(file: string): Promise<ImportSource> {
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new UsageError(`--from ${file} cannot be read (${error instanceof Error ? error.message : String(error)})`);
  });
  if (bytes.length > exportFileBytesMax) throw new Error(`${file} is ${bytes.length} bytes, over the ${exportFileBytesMax} bytes an export of a store etcd takes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new Error(`${file} is not JSON: not a 'coordination export' document`);
  }
  if (!isRecord(parsed) || parsed.format !== exportFormatName || parsed.format_version !== exportFormatVersion) {
    throw new Error(`${file} is not a '${exportFormatName}' document of format version ${exportFormatVersion}`);
  }
  const { highest_epoch: highestEpoch, store_state: storeState, device_id: deviceId } = parsed;
  if (typeof highestEpoch !== "number" || !Number.isSafeInteger(highestEpoch) || highestEpoch < 0 || typeof storeState !== "string" || typeof deviceId !== "string") {
    throw new Error(`${file} lacks highest_epoch, device_id or store_state`);
  }
  const state = decodeExportedState(file, storeState);
  const summary = summaryOf(state);
  const claimed = { generation: parsed.generation, volumes: parsed.volumes, journal_entries: parsed.journal_entries };
  if (JSON.stringify(claimed) !== JSON.stringify(summary)) throw new Error(`${file}: its summary does not match its store_state (was it edited?); export again`);
  return { state, highestEpoch, deviceId };
}

function decodeExportedState(file: string, base64: string): StoreState__Output {
  try {
    return decodeStoreState(Buffer.from(base64, "base64"));
  } catch (error) {
    throw new Error(`${file}: store_state does not decode as a StoreState (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
}

/** `--prefix P`: etcd keys are prefix + name, so a prefix is a short path that ends in "/". */
function prefixOption(parsed: Parsed): string {
  const prefix = stringOption(parsed, "prefix") ?? applianceEtcdKeyPrefix;
  if (prefix.length === 0 || prefix.length > keyPrefixLengthMax || !prefix.endsWith("/")) {
    throw new UsageError(`--prefix must end in "/" and be 1 to ${keyPrefixLengthMax} characters, not ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/** Where import takes the store from: a stopped appliance's folder, or an export file. */
async function importSource(parsed: Parsed): Promise<ImportSource> {
  const dir = stringOption(parsed, "dir");
  const from = stringOption(parsed, "from");
  if ((dir === undefined) === (from === undefined)) throw new UsageError("give either --dir DIR (a stopped appliance) or --from FILE (a 'coordination export' document)");
  if (from !== undefined) return readExportFile(from);
  if (dir === undefined || dir === "") throw new UsageError("--dir needs a folder");
  return readDevice(dir);
}

export const coordinationImport: Command = {
  words: ["coordination", "import"],
  summary: "put an exported configuration store into an empty etcd prefix, for 'up --etcd'",
  help: `Usage: switchyard coordination import --etcd URLS (--dir DIR | --from FILE) [--prefix P]
                                   [--output table|json|yaml]

Puts an appliance's configuration store (volumes, extent tables, journal,
copy progress) into etcd under P, from a stopped appliance's folder or from
a 'coordination export' document. etcd's revision is first raised above the
device arbiter's highest epoch, so every token a controller gets on etcd
(the first is at least the printed first_token_min) is above every epoch
apparatuses and devices have seen. Only an empty prefix is written: one
that holds a store already (imported before, or seeded by 'up --etcd') is
refused with nothing changed. Then start 'switchyard up --dir DIR --etcd URLS'.

Options:
  --etcd URLS           the etcd cluster's client URLs, comma-separated
  --dir DIR             the data folder of a stopped 'switchyard up' (refused while it serves)
  --from FILE           a document 'switchyard coordination export --out FILE' wrote
  --prefix P            the key prefix, ending in "/" (default ${applianceEtcdKeyPrefix}, the one 'up --etcd' uses)
${outputOptionsHelp}

Example:
  switchyard coordination import --etcd http://10.0.0.1:2379,http://10.0.0.2:2379 --dir ./switchyard-data
  switchyard up --dir ./switchyard-data --etcd http://10.0.0.1:2379,http://10.0.0.2:2379`,
  async run(argv, io) {
    const options = { etcd: { type: "string" }, dir: { type: "string" }, from: { type: "string" }, prefix: { type: "string" }, ...outputOptions } as const;
    const parsed = parse(argv, options, 0);
    const format = dataFormat(parsed);
    const etcd = etcdOption(stringOption(parsed, "etcd"));
    if (etcd === undefined) throw new UsageError("--etcd URLS is required: the etcd cluster's client URLs");
    const keyPrefix = prefixOption(parsed);
    const source = await importSource(parsed);
    const { revision } = await importStoreToEtcd({ endpoints: etcd.endpoints, keyPrefix, state: source.state, highestEpoch: source.highestEpoch }).catch((error: unknown) => {
      // The client's own text runs on ("Last error: ... Resolution note:"); its first sentence is the one to print.
      if (!isCoordinationError(error, "UNAVAILABLE") || !(error instanceof Error)) throw error;
      const reason = (error.message.split(/\.\s|\n/)[0] ?? error.message).replace(/^import: /, "");
      throw new Error(`etcd did not answer at ${etcd.endpoints.join(",")} (${reason}); no store was written`, { cause: error });
    });
    // A token is an election key's create revision, and every such key is created after the import's write.
    const imported = { prefix: keyPrefix, device_id: source.deviceId, ...summaryOf(source.state), highest_epoch: source.highestEpoch, store_revision: revision, first_token_min: revision + 1 };
    if (format !== undefined) printData(io, format, imported);
    else {
      io.stdout.write(
        `imported device ${source.deviceId}'s store into ${keyPrefix} on etcd: ${volumesText(imported.volumes)}, generation ${imported.generation}, ` +
          `${imported.journal_entries} journal entries; the first token is at least ${imported.first_token_min} (highest epoch was ${source.highestEpoch})\n`,
      );
    }
    return 0;
  },
};
