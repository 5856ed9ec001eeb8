/**
 * The page's forms, checked by the very functions that check the CLI's
 * arguments (volumeCreateArguments, volumeMoveArguments) and answered with
 * the very line the CLI would print (failureLine): a form field is the CLI
 * option of the same name, so "--size "12 parsecs" is not a size" reads the
 * same in both places.
 */
import type { IncomingMessage } from "node:http";
import { volumeMoveArguments } from "../commands/change.js";
import { migrateArguments } from "../commands/migrate.js";
import { volumeCreateArguments } from "../commands/volume.js";
import type { ConsoleClient } from "../controller-client.js";
import { exitUsage, failureLine } from "../failure.js";
import { formatBytes } from "../sizes.js";
import { positional, type Parsed } from "../usage.js";
import { changeSnapshot } from "./snapshot.js";
import type { FormAnswer } from "./snapshot-types.js";

/** A form is a few short fields; anything longer is not from the page. */
export const formBodyBytesMax = 16 * 1024;

/** A form that cannot be carried out, with the HTTP status and the CLI's line. */
export class FormError extends Error {
  readonly httpStatus: number;
  constructor(httpStatus: number, message: string) {
    super(message);
    this.name = "FormError";
    this.httpStatus = httpStatus;
  }
}

/**
 * Reads a JSON object of string fields. Only application/json is taken: a
 * page on another site can post a plain HTML form here, but cannot send
 * this content type without the browser asking first (CORS), which this
 * server never allows.
 */
export async function readJsonBody(request: IncomingMessage): Promise<Readonly<Record<string, string>>> {
  if (request.headers["content-type"]?.split(";")[0]?.trim() !== "application/json") {
    throw new FormError(415, "forms are posted as application/json");
  }
  const chunks: Buffer[] = [];
  let lengthBytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    lengthBytes += chunk.length;
    if (lengthBytes > formBodyBytesMax) throw new FormError(413, `a form may be at most ${formBodyBytesMax} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new FormError(400, "the form is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new FormError(400, "the form is not a JSON object");
  const fields: Record<string, string> = {};
  for (const [key, field] of Object.entries(value)) if (typeof field === "string") fields[key] = field;
  return fields;
}

/**
 * The fields as the CLI's parsed arguments: `positional` is the command's
 * operand, the rest its options. An empty field counts as not given, as an
 * option left off the command line.
 */
function asParsed(fields: Readonly<Record<string, string>>, positional: string, options: readonly string[]): Parsed {
  const values: Record<string, string> = {};
  for (const option of options) {
    const value = fields[option]?.trim() ?? "";
    if (value !== "") values[option] = value;
  }
  const operand = fields[positional]?.trim() ?? "";
  return { values, positionals: operand === "" ? [] : [operand] };
}

/** Runs a form's action; its failure becomes the CLI's line for `command`. */
async function answer(command: string, action: () => Promise<FormAnswer>): Promise<FormAnswer> {
  try {
    return await action();
  } catch (error: unknown) {
    const failure = failureLine(error);
    throw new FormError(failure.code === exitUsage ? 400 : 409, `switchyard ${command}: ${failure.line}`);
  }
}

/** A form's action: its fields in, the answer the page shows out. */
export type FormAction = (client: ConsoleClient, fields: Readonly<Record<string, string>>) => Promise<FormAnswer>;

export function createVolumeFromForm(client: ConsoleClient, fields: Readonly<Record<string, string>>): Promise<FormAnswer> {
  return answer("volume create", async () => {
    const { name, sizeBytes, lu } = volumeCreateArguments(asParsed(fields, "name", ["size", "lu"]));
    const volume = await client.createVolume(name, sizeBytes, lu);
    return { ok: true, message: `created volume ${volume.name}: ${formatBytes(volume.size_bytes)} in ${volume.extents.length} extents` };
  });
}

export function moveExtentFromForm(client: ConsoleClient, fields: Readonly<Record<string, string>>): Promise<FormAnswer> {
  return answer("volume move", async () => {
    const { name, extentIndex, toLu } = volumeMoveArguments(asParsed(fields, "volume", ["extent", "to"]));
    const change = changeSnapshot(await client.submitMove(name, extentIndex, toLu));
    const committed = change.state === "committed";
    return { ok: true, message: committed ? `change ${change.id} committed` : `change ${change.id} did not commit: ${change.message}`, change };
  });
}

export function migrateFromForm(client: ConsoleClient, fields: Readonly<Record<string, string>>): Promise<FormAnswer> {
  return answer("migrate", async () => {
    const change = changeSnapshot(await client.submitMigrate(migrateArguments(asParsed(fields, "volume", ["to", "extents", "rate"]))));
    return { ok: true, message: `migration ${change.id} started: ${change.summary}`, change };
  });
}

export function cancelMigrationFromForm(client: ConsoleClient, fields: Readonly<Record<string, string>>): Promise<FormAnswer> {
  return answer("migrate cancel", async () => {
    const id = positional(asParsed(fields, "id", []), 0, "migration ID");
    const change = changeSnapshot(await client.cancelChange(id));
    return { ok: true, message: `migration ${change.id} cancelled: ${change.message}`, change };
  });
}
