/**
 * Who is in the control range (claim 3), as a sans-I/O core beside ChangeRun
 * and LeaseCore: the membership driver (membership.ts) tells it what
 * happened (an apparatus answered a takeover, a fence was or was not
 * recorded, a probe was answered, an operator fenced one) and asks it what
 * to do (whom to fence again, whom to probe, who rejoins now, whether a
 * registration key may be kept). It makes no call and reads no clock.
 *
 * Each apparatus is in the range or fenced. A fence the device has not
 * acknowledged is owed: until the device records it the apparatus may still
 * serve under its key, so every change first has it recorded. An
 * apparatus fenced by an operator stays out until an operator takes it
 * back; any other fenced apparatus rejoins once it has answered
 * `rejoinProbesMin` probes in a row.
 */
import assert from "node:assert/strict";

/** What the core knows of one apparatus. */
interface Member {
  inRange: boolean;
  /** The registration key the device knows it by, while in the range. */
  key: string | undefined;
  /** Fenced, and the device has not acknowledged the fence yet. */
  fenceOwed: boolean;
  /** Probes answered in a row since its fence. */
  probesAnswered: number;
}

/** What an apparatus in the range reported of its serving. */
export interface ServingSeen {
  /** It says it is fenced: its lease ran out or a renewal was refused, unknown to this controller. */
  readonly fenced: boolean;
  /** Volumes it stopped serving when a hold passed its deadline. */
  readonly volumesShut: readonly string[];
}

/** What an apparatus reported of its registration when a new controller asked. */
export interface RegistrationSeen {
  /** The digest of the key it presents (registration_key_sha256); "" when it has none. */
  readonly keyDigest: string;
  /** It says it is fenced (its renewals were refused, or its lease ran out). */
  readonly fenced: boolean;
}

export class MembershipCore {
  private readonly members = new Map<string, Member>();
  /** Fenced by an operator, as the store records it. */
  private operatorFenced = new Set<string>();

  constructor(apparatusIds: readonly string[], private readonly rejoinProbesMin: number) {
    assert.ok(rejoinProbesMin >= 1);
    // In the range until a takeover says otherwise: the takeover asks every one.
    for (const id of apparatusIds) this.members.set(id, { inRange: true, key: undefined, fenceOwed: false, probesAnswered: 0 });
  }

  /** Apparatuses in the control range now, in the order they were added. */
  inRange(): string[] {
    return [...this.members].filter(([, member]) => member.inRange).map(([id]) => id);
  }

  isFenced(apparatusId: string): boolean {
    return !this.member(apparatusId).inRange;
  }

  isOperatorFenced(apparatusId: string): boolean {
    return this.operatorFenced.has(apparatusId);
  }

  keyOf(apparatusId: string): string | undefined {
    return this.member(apparatusId).key;
  }

  /**
   * An apparatus the controller has not met, or met at another address (a
   * new incarnation with an empty table): fenced until it joins, which it
   * does at its first answer.
   */
  enrolled(apparatusId: string): void {
    this.members.set(apparatusId, { inRange: false, key: undefined, fenceOwed: false, probesAnswered: this.rejoinProbesMin - 1 });
  }

  /** The operators' fences, as the store lists them. */
  setOperatorFenced(apparatusIds: readonly string[]): void {
    this.operatorFenced = new Set(apparatusIds);
  }

  operatorFence(apparatusId: string, fenced: boolean): void {
    if (fenced) this.operatorFenced.add(apparatusId);
    else this.operatorFenced.delete(apparatusId);
  }

  /** Out of the range from now on; the device is to be told (fenceRecorded when it has). */
  fence(apparatusId: string): void {
    const member = this.member(apparatusId);
    member.inRange = false;
    member.key = undefined;
    member.fenceOwed = true;
    member.probesAnswered = 0;
  }

  fenceRecorded(apparatusId: string): void {
    this.member(apparatusId).fenceOwed = false;
  }

  /** Fences the device has not acknowledged: each must be recorded before the next change. */
  owedFences(): string[] {
    return [...this.members].filter(([, member]) => member.fenceOwed).map(([id]) => id);
  }

  /**
   * Whether a takeover may keep the registration an apparatus reports. Not
   * when it says it is fenced, has none, or this controller fenced it: it may have
   * heard of that fence since it answered and stopped renewing, and only a
   * Register starts it again.
   */
  keepsKey(apparatusId: string, seen: RegistrationSeen): boolean {
    return seen.keyDigest !== "" && !seen.fenced && !this.isFenced(apparatusId);
  }

  /**
   * Whether an apparatus in the range has fallen out of step on its own and
   * must load the table and register again: it stopped serving (its lease ran
   * out), or shut volumes when a hold passed its deadline.
   */
  outOfStep(apparatusId: string, seen: ServingSeen): boolean {
    return !this.isFenced(apparatusId) && (seen.fenced || seen.volumesShut.length > 0);
  }

  /**
   * It loaded the table and is registered under `key`: in the range; any
   * fence owed is moot (its old key is gone). `key` undefined: a registration
   * kept at a takeover, whose key this controller never learns.
   */
  joined(apparatusId: string, key: string | undefined): void {
    const member = this.member(apparatusId);
    member.inRange = true;
    member.key = key;
    member.fenceOwed = false;
    member.probesAnswered = 0;
  }

  /** Fenced apparatuses an automatic rejoin may take back: the ones to probe. */
  probeTargets(): string[] {
    return [...this.members].filter(([id, member]) => !member.inRange && !this.operatorFenced.has(id)).map(([id]) => id);
  }

  /** A probe's outcome; true when the apparatus has answered enough in a row to rejoin now. */
  probed(apparatusId: string, answered: boolean): boolean {
    const member = this.member(apparatusId);
    member.probesAnswered = answered ? member.probesAnswered + 1 : 0;
    if (member.probesAnswered < this.rejoinProbesMin) return false;
    member.probesAnswered = 0;
    return true;
  }

  /** Keys to tell the device again (a device that restarted forgot them). */
  keysInRange(): [string, string][] {
    const keys: [string, string][] = [];
    for (const [id, member] of this.members) if (member.inRange && member.key !== undefined) keys.push([id, member.key]);
    return keys;
  }

  private member(apparatusId: string): Member {
    const member = this.members.get(apparatusId);
    assert.ok(member !== undefined, `no apparatus ${apparatusId} in the membership`);
    return member;
  }
}
