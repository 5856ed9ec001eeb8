/**
 * How a registration key shows in a reply: never itself (issue 17), only
 * its SHA-256, which says which registration an apparatus holds without
 * letting the reader present it.
 */
import { createHash } from "node:crypto";

/** The hex SHA-256 of `key`; "" for no key. */
export function registrationKeyDigest(key: string): string {
  return key === "" ? "" : createHash("sha256").update(key, "utf8").digest("hex");
}
