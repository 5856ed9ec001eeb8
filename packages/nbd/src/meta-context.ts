/**
 * Metadata contexts (proto.md "Metadata querying", NBD_OPT_LIST_META_CONTEXT
 * and NBD_OPT_SET_META_CONTEXT), sans I/O: parsing an option's data and
 * deciding which contexts a list of queries names. The one context served is
 * `base:allocation`.
 */
import { NBD_META_CONTEXT_BASE_ALLOCATION, NBD_STRING_MAX_BYTES } from "./constants.js";

/** The id `base:allocation` gets when selected; proto.md leaves ids to the server. */
export const baseAllocationContextId = 1;
/** Its namespace, with the colon: the wildcard query a LIST may use. */
const baseNamespace = "base:";

export interface MetaContextRequest {
  readonly exportName: string;
  readonly queries: readonly string[];
}

/**
 * Parses the data of a LIST or SET: 32-bit name length, name, 32-bit query
 * count, then each query as 32-bit length and string. Returns why it is
 * invalid, as a string (proto.md: NBD_REP_ERR_INVALID).
 */
export function parseMetaContextRequest(payload: Buffer): MetaContextRequest | string {
  if (payload.length < 8) return "meta context option data shorter than 8 bytes";
  const nameBytes = payload.readUInt32BE(0);
  if (nameBytes > NBD_STRING_MAX_BYTES) return "export name longer than 4096 bytes";
  if (nameBytes > payload.length - 8) return "export name length exceeds the option data";
  const exportName = payload.toString("utf8", 4, 4 + nameBytes);
  const count = payload.readUInt32BE(4 + nameBytes);
  let at = 8 + nameBytes;
  const queries: string[] = [];
  // Each query takes at least 4 bytes, so the option length bounds this loop.
  for (let index = 0; index < count; index += 1) {
    if (payload.length - at < 4) return "meta context query count exceeds the option data";
    const queryBytes = payload.readUInt32BE(at);
    if (queryBytes > NBD_STRING_MAX_BYTES) return "meta context query longer than 4096 bytes";
    if (queryBytes > payload.length - at - 4) return "meta context query length exceeds the option data";
    queries.push(payload.toString("utf8", at + 4, at + 4 + queryBytes));
    at += 4 + queryBytes;
  }
  if (at !== payload.length) return "meta context option data longer than its queries";
  return { exportName, queries };
}

/**
 * The contexts a LIST names: every context for no query (proto.md: MUST),
 * and `base:allocation` for its own name or the `base:` wildcard; queries
 * of unknown namespaces are ignored (proto.md: MUST).
 */
export function listedContexts(queries: readonly string[]): readonly string[] {
  if (queries.length === 0) return [NBD_META_CONTEXT_BASE_ALLOCATION];
  const named = queries.some((query) => query === NBD_META_CONTEXT_BASE_ALLOCATION || query === baseNamespace);
  return named ? [NBD_META_CONTEXT_BASE_ALLOCATION] : [];
}

/** Whether a SET selects `base:allocation`: only by its exact name (proto.md: no query selects nothing). */
export function selectsBaseAllocation(queries: readonly string[]): boolean {
  return queries.includes(NBD_META_CONTEXT_BASE_ALLOCATION);
}
