/**
 * The device's registrations (fencing) on disk: which key each apparatus
 * presents and which apparatuses are fenced. Kept across a restart, as SCSI
 * persistent reservations can be: a fenced apparatus must stay fenced when
 * the device comes back, and a registered one should not be refused until a
 * controller registers it again. Written whole (it is small) and durably.
 */
import { readFileIfExists, writeFileDurably } from "./durable-file.js";
import { DeviceCorruptError } from "./errors.js";
import type { DeviceFiles } from "./device-files.js";

export const registrationsFileName = "registrations.json";

export interface Registrations {
  /** Apparatus id to the key it presents. */
  readonly keys: ReadonlyMap<string, string>;
  readonly fenced: ReadonlySet<string>;
}

function isStringPairs(value: unknown): value is [string, string][] {
  return Array.isArray(value) && value.every((pair: unknown) => Array.isArray(pair) && pair.length === 2 && pair.every((item: unknown) => typeof item === "string"));
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item: unknown) => typeof item === "string");
}

/** The registrations saved at `filePath`, or none when the device never saved any. */
export async function loadRegistrations(files: DeviceFiles, filePath: string): Promise<Registrations> {
  const bytes = await readFileIfExists(files, filePath);
  if (bytes === undefined) return { keys: new Map(), fenced: new Set() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new DeviceCorruptError(`${filePath} is not JSON: ${String(error)}`);
  }
  if (typeof parsed !== "object" || parsed === null || !("keys" in parsed) || !("fenced" in parsed) || !isStringPairs(parsed.keys) || !isStrings(parsed.fenced)) {
    throw new DeviceCorruptError(`${filePath} does not hold {"keys": [[id, key], ...], "fenced": [id, ...]}`);
  }
  return { keys: new Map(parsed.keys), fenced: new Set(parsed.fenced) };
}

export async function saveRegistrations(files: DeviceFiles, filePath: string, registrations: Registrations): Promise<void> {
  await writeFileDurably(files, filePath, `${JSON.stringify({ keys: [...registrations.keys], fenced: [...registrations.fenced] })}\n`);
}
