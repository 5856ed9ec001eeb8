/**
 * Deliberate bugs, each an ApparatusBehaviour that does one thing wrong and
 * the rest as the protocol says, to prove that a checker, the simulator or
 * the conformance suite catches that one thing. Test code only: an
 * apparatus gets one when whoever builds it passes `behaviour`.
 *
 * "drain-early": Hold reports drained without waiting for I/O in flight.
 * "hold-nothing": Hold installs no gate, so I/O it should hold runs before
 * Apply. "ignore-fencing": it goes on serving when fenced or when its lease
 * runs out, and never presents its identity to the device, so the device
 * cannot refuse it either. "release-early": Apply lets the held I/O go
 * (through the new face) before Release. "hold-whole-volume": Hold ignores
 * the byte ranges and holds every volume it names whole.
 * "accept-stale-epoch": a message below the highest epoch seen is obeyed.
 * "apply-whole-table": Apply takes the diff for the whole table, so volumes
 * it does not name vanish and rows it does not name map to area 0 of LU 0.
 * "hold-forever": a hold past its deadline never ends by itself, so held
 * requests wait for a Release that may never come. "open-control": the
 * control service lets every caller with a certificate of the CA in,
 * whatever its role. "wrap-large-integers": an integer of a request past
 * 2^53 - 1 is not refused but kept in 53 bits, as a decoder into a narrower
 * field would (2^64 - 1 and 2^53 both become 0): a Hold of a range at the
 * uint64 limit holds from byte 0, a table at such a generation loads as
 * generation 0, and an epoch there turns stale (so it is still refused).
 * "unscreened-integers": no request is refused for its integers, so one
 * past 2^53 - 1 reaches the handlers rounded to a double: an epoch of
 * 2^64 - 1 is obeyed and outranks every real epoch, wedging the apparatus
 * until it restarts. "state-shows-key": GetState carries the registration
 * key itself where its SHA-256 belongs. "any-apparatus-commands": the
 * control service checks roles but not whose epoch a request acts under,
 * so any apparatus of the cluster can hold, apply or load a table under the
 * controller's epoch. "early-admission-end": a request spanning extents
 * leaves admission when its first part fails, while its other parts may
 * still be writing, so a Hold can report drained with those writes still
 * on their way to the areas the change retires.
 */
import type { DifferenceTable__Output } from "@switchyard/proto";
import { apparatusBehaviourDefault, type ApparatusBehaviour } from "../apparatus-behaviour.js";
import type { TableFace } from "../configuration-faces.js";
import { applyDifference } from "../difference.js";

export type ApparatusFault =
  | "drain-early"
  | "hold-nothing"
  | "ignore-fencing"
  | "release-early"
  | "hold-whole-volume"
  | "accept-stale-epoch"
  | "apply-whole-table"
  | "hold-forever"
  | "open-control"
  | "wrap-large-integers"
  | "unscreened-integers"
  | "state-shows-key"
  | "any-apparatus-commands"
  | "early-admission-end";

/** "apply-whole-table": the face keeps only what the diff names, every other row reset to area 0 of LU 0. */
function applyAsWholeTable(face: TableFace, diff: DifferenceTable__Output): void {
  const named = new Set(diff.rows.map((row) => row.volume));
  for (const [name, map] of face.volumes) {
    if (!named.has(name)) {
      face.volumes.delete(name);
      continue;
    }
    map.luIndex.fill(0);
    map.areaIndex.fill(0);
    map.mirrorLuIndexPlusOne.fill(0);
  }
  applyDifference(face, diff);
}

/** 2^53: what "wrap-large-integers" keeps an integer modulo. */
const wrapModulus = 2n ** 53n;
/** Request nesting the wrap walks (ours nest four deep; integer-range.ts refuses deeper ones). */
const wrapNestingMax = 32;

/** Integers of `message` past 2^53 - 1, replaced in place by their value modulo 2^53. */
function wrapLargeIntegers(message: unknown, depth = 0): void {
  if (typeof message !== "object" || message === null || Buffer.isBuffer(message) || depth >= wrapNestingMax) return;
  const fields = message as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)) {
      fields[key] = Number(BigInt(value) % wrapModulus);
    } else {
      wrapLargeIntegers(value, depth + 1);
    }
  }
}

/** Each planted bug's behaviour: the default with the one decision it gets wrong. */
export const apparatusFaultBehaviours: Readonly<Record<ApparatusFault, ApparatusBehaviour>> = {
  "drain-early": { ...apparatusBehaviourDefault, drainsAtHold: false },
  "hold-nothing": { ...apparatusBehaviourDefault, rangesToHold: () => [] },
  "ignore-fencing": { ...apparatusBehaviourDefault, submitsToFencing: false },
  "release-early": { ...apparatusBehaviourDefault, releasesAtApply: true },
  "hold-whole-volume": {
    ...apparatusBehaviourDefault,
    rangesToHold: (asked) => asked.map((range) => ({ volume: range.volume, startBytes: 0, endBytes: Number.MAX_SAFE_INTEGER })),
  },
  "accept-stale-epoch": { ...apparatusBehaviourDefault, acceptsEpoch: () => true },
  "apply-whole-table": { ...apparatusBehaviourDefault, applyToStandby: applyAsWholeTable },
  "hold-forever": { ...apparatusBehaviourDefault, expiresHolds: false },
  "open-control": { ...apparatusBehaviourDefault, checksCallers: false },
  "wrap-large-integers": {
    ...apparatusBehaviourDefault,
    integerRefusal: (request) => {
      wrapLargeIntegers(request);
      return undefined;
    },
  },
  "unscreened-integers": { ...apparatusBehaviourDefault, integerRefusal: () => undefined },
  "state-shows-key": { ...apparatusBehaviourDefault, registrationInState: (key) => key },
  "any-apparatus-commands": { ...apparatusBehaviourDefault, checksEpochHolders: false },
  "early-admission-end": { ...apparatusBehaviourDefault, settlesEveryPart: false },
};

/** Every planted bug, for option parsers. */
export const apparatusFaults: readonly ApparatusFault[] = [
  "drain-early",
  "hold-nothing",
  "ignore-fencing",
  "release-early",
  "hold-whole-volume",
  "accept-stale-epoch",
  "apply-whole-table",
  "hold-forever",
  "open-control",
  "wrap-large-integers",
  "unscreened-integers",
  "state-shows-key",
  "any-apparatus-commands",
  "early-admission-end",
];

/** The planted bug named `text`, or undefined for a name that is none. */
export function apparatusFaultNamed(text: string): ApparatusFault | undefined {
  return apparatusFaults.find((fault) => fault === text);
}
