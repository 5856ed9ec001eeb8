/**
 * What the apparatus under test declares it supports (issue 22), in the
 * spirit of connect-conformance's features file: a case that needs a
 * feature the file declares absent is reported as skipped "by declaration"
 * (TAP `# SKIP`), never silently left out. Without a file every feature is
 * declared, as Switchyard's own apparatus has them all.
 *
 * The file is JSON, or the flat subset of YAML below (one `name: value` a
 * line under an optional `features:` heading, `#` comments):
 *
 *     features:
 *       tls: true
 *       nbd-tls: require
 *       hold-deadline-ms: 10000
 */
import { readFile } from "node:fs/promises";

/** Every optional feature a case may need. */
export const featureNames = ["tls", "nbd-tls", "hold-deadline", "block-status", "fast-zero", "multi-conn", "trim", "write-zeroes"] as const;
export type Feature = (typeof featureNames)[number];

/** How hosts reach the apparatus's NBD server: plain, TLS on request, or TLS only (proto.md "TLS support"). */
export type NbdTlsMode = "off" | "on" | "require";

export interface Features {
  /** The features declared present. */
  readonly declared: ReadonlySet<Feature>;
  /** The NBD server's TLS mode; "off" when nbd-tls is absent. */
  readonly nbdTls: NbdTlsMode;
  /** The apparatus's hold deadline (DESIGN.md "Progress"). */
  readonly holdDeadlineMs: number;
}

/** Switchyard's own (apparatus.ts holdDeadlineMsDefault): the bound a tester's file may change. */
export const holdDeadlineMsDefault = 10_000;
/** A deadline longer than this would make one case outlast the case timeout. */
export const holdDeadlineMsMax = 20_000;

export class FeaturesError extends Error {
  readonly code = "BAD_FEATURES_FILE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FeaturesError";
  }
}

/** Every feature, TLS only with TLS: what Switchyard's apparatus supports. */
export function defaultFeatures(tls: boolean): Features {
  const declared = new Set<Feature>(featureNames);
  if (!tls) {
    declared.delete("tls");
    declared.delete("nbd-tls");
  }
  return { declared, nbdTls: tls ? "require" : "off", holdDeadlineMs: holdDeadlineMsDefault };
}

function isFeature(name: string): name is Feature {
  return (featureNames as readonly string[]).includes(name);
}

/** `value` of the flat YAML subset: booleans, numbers, bare or quoted strings. */
function scalar(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  if (/^-?\d+$/.test(trimmed)) return Number(trimmed);
  return trimmed.replace(/^["'](.*)["']$/, "$1");
}

/** The flat YAML subset: `name: value` lines, an optional `features:` heading, comments. */
function parseFlatYaml(text: string, file: string): Record<string, unknown> {
  const entries: Record<string, unknown> = {};
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.replace(/\s+#.*$/, "").replace(/^#.*$/, "");
    if (line.trim() === "" || line.trim() === "features:") continue;
    const match = /^\s*([a-z0-9-]+)\s*:\s*(.+)$/.exec(line);
    if (match === null) throw new FeaturesError(`${file} line ${index + 1}: expected "name: value", got ${JSON.stringify(raw)}`);
    entries[match[1] ?? ""] = scalar(match[2] ?? "");
  }
  return entries;
}

function entriesOf(text: string, file: string): Record<string, unknown> {
  if (!text.trimStart().startsWith("{")) return parseFlatYaml(text, file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FeaturesError(`${file} is not valid JSON: ${String(error)}`, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null) throw new FeaturesError(`${file} must hold an object`);
  const inner: unknown = (parsed as Record<string, unknown>).features;
  return (typeof inner === "object" && inner !== null ? inner : parsed) as Record<string, unknown>;
}

/** Applies one `name: value` entry to the declaration being built. */
function declare(features: { declared: Set<Feature>; nbdTls: NbdTlsMode; holdDeadlineMs: number }, name: string, value: unknown, file: string): void {
  if (name === "hold-deadline-ms") {
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > holdDeadlineMsMax) {
      throw new FeaturesError(`${file}: hold-deadline-ms must be a whole number of milliseconds from 1 to ${holdDeadlineMsMax}`);
    }
    features.holdDeadlineMs = value;
    return;
  }
  if (!isFeature(name)) throw new FeaturesError(`${file}: unknown feature ${JSON.stringify(name)} (known: ${featureNames.join(", ")}, hold-deadline-ms)`);
  if (name === "nbd-tls" && (value === "on" || value === "require" || value === "off")) {
    features.nbdTls = value;
    if (value === "off") features.declared.delete(name);
    else features.declared.add(name);
    return;
  }
  if (typeof value !== "boolean") throw new FeaturesError(`${file}: ${name} must be true or false${name === "nbd-tls" ? " (or off, on, require)" : ""}`);
  if (value) features.declared.add(name);
  else features.declared.delete(name);
  if (name === "nbd-tls") features.nbdTls = value ? "require" : "off";
}

/** The features `text` (the file `file`) declares, on top of the defaults for a run with or without TLS. */
export function parseFeatures(text: string, file: string, tls: boolean): Features {
  const base = defaultFeatures(tls);
  const features = { declared: new Set(base.declared), nbdTls: base.nbdTls, holdDeadlineMs: base.holdDeadlineMs };
  for (const [name, value] of Object.entries(entriesOf(text, file))) declare(features, name, value, file);
  return features;
}

export async function readFeatures(file: string | undefined, tls: boolean): Promise<Features> {
  if (file === undefined) return defaultFeatures(tls);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new FeaturesError(`cannot read the features file ${file}: ${String(error)}`, { cause: error });
  }
  return parseFeatures(text, file, tls);
}
