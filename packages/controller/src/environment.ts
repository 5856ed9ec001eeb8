/**
 * The controller's last ties to its process, as ports beside the scheduler:
 * where random identifiers come from and where warnings go. Production
 * passes the system's; the simulator passes a seeded generator and its
 * trace, so a run replays from its seed and prints nothing.
 */
import { randomBytes } from "node:crypto";

export interface Entropy {
  /** `bytes` random bytes as lowercase hex: change ids and registration keys. */
  hex(bytes: number): string;
}

/** Something went wrong that the controller survives: an operator may want to know. */
export type Warn = (message: string) => void;

export const systemEntropy: Entropy = {
  hex: (bytes) => randomBytes(bytes).toString("hex"),
};

export const processWarn: Warn = (message) => {
  process.emitWarning(message);
};
