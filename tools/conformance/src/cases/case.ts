/** One conformance case: what it checks (a claim of claims.txt or a spec clause) and how. */
import type { CaseContext } from "../context.js";
import type { Feature } from "../features.js";

export interface ConformanceCase {
  /** Stable, kebab-case: what --only matches and reports name. */
  readonly id: string;
  readonly title: string;
  /** The claim number(s) or spec clause it holds the apparatus to. */
  readonly checks: string;
  /** Features it needs: declared absent in the features file, the case is skipped by declaration. */
  readonly needs?: readonly Feature[];
  run(context: CaseContext): Promise<void>;
}

/** How long the suite watches held I/O to see that it stays held: many loopback round trips. */
export const heldWindowMs = 300;
/** I/O that nothing holds must finish within this on loopback, even on a loaded machine. */
export const unheldBoundMs = 2_000;
/** Held I/O must finish within this once released. */
export const releasedBoundMs = 5_000;
