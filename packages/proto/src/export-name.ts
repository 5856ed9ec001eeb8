/**
 * How an apparatus names itself to a device when it opens an LU over NBD:
 * the export name `lu0;apparatus=a1;key=K` carries its id and registration
 * key (claim 3: the device refuses I/O under a fenced or replaced key). Both
 * ends share this one definition of the name's shape.
 */

export interface ApparatusIdentity {
  readonly apparatusId: string;
  readonly key: string;
}

/** The export name an apparatus opens `luId` by, presenting who it is. */
export function apparatusExportName(luId: string, identity: ApparatusIdentity): string {
  return `${luId};apparatus=${identity.apparatusId};key=${identity.key}`;
}

/** `lu0` or `lu0;apparatus=ID;key=K`; undefined for anything else. */
export function parseExportName(name: string): { luId: string; identity: ApparatusIdentity | undefined } | undefined {
  const [luId = "", ...parameters] = name.split(";");
  if (parameters.length === 0) return { luId, identity: undefined };
  const values = new Map(parameters.map((parameter) => [parameter.slice(0, parameter.indexOf("=")), parameter.slice(parameter.indexOf("=") + 1)]));
  const apparatusId = values.get("apparatus");
  const key = values.get("key");
  if (parameters.length !== 2 || apparatusId === undefined || apparatusId === "" || key === undefined || key === "") return undefined;
  return { luId, identity: { apparatusId, key } };
}
