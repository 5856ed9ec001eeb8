/**
 * NBD URIs as the store keeps an external device's address:
 * nbd://HOST:PORT[/EXPORT], with an IPv6 host in brackets. The controller
 * checks names on registration (external-devices.ts); the device parses the
 * stored ones to reach a mirror's target.
 */

export interface NbdUri {
  readonly host: string;
  readonly port: number;
  /** "" for the server's default export. */
  readonly exportName: string;
}

const uriPattern = /^nbd:\/\/([^/:[\]]+|\[[0-9a-fA-F:]+\]):(\d{1,5})(?:\/(.*))?$/;

/** The parts of an NBD URI, or undefined when `text` is none. */
export function parseNbdUri(text: string): NbdUri | undefined {
  const match = uriPattern.exec(text);
  const port = Number(match?.[2]);
  if (match === null || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host: (match[1] ?? "").replace(/^\[|\]$/g, ""), port, exportName: match[3] ?? "" };
}
