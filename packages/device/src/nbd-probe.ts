/**
 * What an NBD server's export serves, asked of the device for `device
 * add-external`: the controller has no data path (DESIGN.md "Packages"), so
 * the device, which opens external LUs for its mirrors anyway
 * (external-lu.ts), connects as an apparatus will and reads the export's
 * size and whether it is read-only. The URI is checked first, so a refusal
 * for bad input costs no connection.
 */
import { NbdClient, parseNbdUri, type NbdUri } from "@switchyard/nbd";
import { externalNameRule, isExternalName } from "@switchyard/proto";
import { DeviceError, InvalidArgumentError } from "./errors.js";

/** Bound on reaching the server and its handshake: well under the console's 15 s call deadline. */
export const nbdProbeTimeoutMs = 5_000;

export interface NbdExportProbe {
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  /** "" for the server's default export. */
  readonly exportName: string;
}

/** nbd://HOST:PORT[/EXPORT] with a plain export name; anything else is INVALID_ARGUMENT. */
export function parseExternalUri(text: string): NbdUri {
  const uri = parseNbdUri(text);
  if (uri === undefined) {
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not an NBD URI; give nbd://HOST:PORT/EXPORT, e.g. nbd://127.0.0.1:10900/disk`);
  }
  // The export becomes the LU's name, DEVICE:EXPORT: no ':' or '/' in it.
  if (uri.exportName !== "" && !isExternalName(uri.exportName)) {
    throw new InvalidArgumentError(`export name ${JSON.stringify(uri.exportName)} must be ${externalNameRule}`);
  }
  return uri;
}

/** Connects to the export `text` names, reads what it serves and disconnects. */
export async function probeNbdExport(text: string): Promise<NbdExportProbe> {
  const uri = parseExternalUri(text);
  let client: NbdClient;
  try {
    client = await NbdClient.connect({ ...uri, timeoutMs: nbdProbeTimeoutMs });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DeviceError("EXTERNAL_UNREACHABLE", `the device could not open it: ${reason}`, { cause: error });
  }
  const probe = { sizeBytes: client.sizeBytes, readOnly: client.readOnly, exportName: uri.exportName };
  await client.close();
  return probe;
}
