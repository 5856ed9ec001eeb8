/**
 * Bad ranges of the simulated LUs' disks (issue 19 item 4: an LU that
 * returns EIO on reads or writes in a range): a request that touches a bad
 * range of its LU fails with EIO when it reaches the device, while the rest
 * of that LU and every other LU serve. A request spanning extents can then
 * have one part refused at once while a sibling, on another area, still
 * goes on to land: the case in which an apparatus must keep the request
 * admitted until every part has settled, or a drain reports drained with
 * that sibling still on its way (the planted early-admission-end).
 */
import { NbdError } from "@switchyard/nbd";

/** What a bad range answers: the spec's EIO, of a class the hosts tell from other failures. */
export class BadRangeError extends NbdError {
  constructor(message: string) {
    super("EIO", message);
    this.name = "BadRangeError";
  }
}

interface BadRange {
  readonly luIndex: number;
  readonly startBytes: number;
  readonly endBytes: number;
  /** Virtual ms at which the range serves again. */
  readonly untilMs: number;
}

export class LuRangeFaults {
  private ranges: BadRange[] = [];
  /** Ranges that went bad, and requests they refused. */
  faults = 0;
  refused = 0;

  constructor(private readonly nowMs: () => number) {}

  /** Bytes [startBytes, endBytes) of LU `luIndex` fail every request for `forMs`. */
  fail(luIndex: number, startBytes: number, endBytes: number, forMs: number): void {
    this.faults += 1;
    this.ranges.push({ luIndex, startBytes, endBytes, untilMs: this.nowMs() + forMs });
  }

  /** Why a request of `lengthBytes` at `offsetBytes` of LU `luIndex` fails now, or undefined when it touches no bad range. */
  refusal(luIndex: number, offsetBytes: number, lengthBytes: number): BadRangeError | undefined {
    if (this.ranges.length === 0) return undefined;
    const now = this.nowMs();
    this.ranges = this.ranges.filter((range) => range.untilMs > now);
    const bad = this.ranges.find((range) => range.luIndex === luIndex && offsetBytes < range.endBytes && range.startBytes < offsetBytes + lengthBytes);
    if (bad === undefined) return undefined;
    this.refused += 1;
    return new BadRangeError(`LU ${luIndex} failed bytes ${offsetBytes}+${lengthBytes}: a bad range of its disk (${bad.startBytes}-${bad.endBytes})`);
  }

  /** Every range serves again (the run settles without faults). */
  heal(): void {
    this.ranges = [];
  }
}
