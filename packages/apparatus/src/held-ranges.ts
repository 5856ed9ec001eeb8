/** Turns a Hold request's volume ranges into byte ranges of the active face, checked. */
import type { HoldRequest__Output } from "@switchyard/proto";
import type { TableFace } from "./configuration-faces.js";
import { ApparatusError } from "./errors.js";
import { rangesPerHoldMax, type HeldRange } from "./hold-gate.js";

export function heldRanges(face: TableFace, request: HoldRequest__Output): HeldRange[] {
  if (request.change_id === "") throw new ApparatusError("INVALID_HOLD", "Hold needs a change_id");
  if (request.mode === "HOLD_MODE_UNSPECIFIED") {
    throw new ApparatusError("INVALID_HOLD", "Hold needs a mode: HOLD_MODE_WRITES, HOLD_MODE_ALL or HOLD_MODE_NONE");
  }
  if (request.ranges.length === 0 || request.ranges.length > rangesPerHoldMax) {
    throw new ApparatusError("INVALID_HOLD", `Hold needs 1 to ${rangesPerHoldMax} ranges, not ${request.ranges.length}`);
  }
  return request.ranges.map((range) => {
    const map = face.volumes.get(range.volume);
    if (map === undefined) throw new ApparatusError("INVALID_HOLD", `Hold names volume ${range.volume}, which does not exist`);
    // length 0: to the end of the volume (and past it, so that a resize's new bytes are covered).
    const endBytes = range.length_bytes === 0 ? Number.MAX_SAFE_INTEGER : range.offset_bytes + range.length_bytes;
    if (range.offset_bytes >= map.sizeBytes && range.length_bytes !== 0) {
      throw new ApparatusError("INVALID_HOLD", `Hold range at ${range.offset_bytes} is past the end of ${range.volume} (${map.sizeBytes} bytes)`);
    }
    return { volume: range.volume, startBytes: range.offset_bytes, endBytes };
  });
}
