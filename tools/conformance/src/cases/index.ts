/**
 * Every case, in the order a run takes them: the NBD basics first, the
 * change protocol after, then security, and the slow hold deadline last.
 */
import { authCases } from "./auth-cases.js";
import { blockStatusCases } from "./block-status-cases.js";
import { changeCases } from "./change-cases.js";
import { deadlineCases } from "./deadline-cases.js";
import { flushCases } from "./flush-cases.js";
import { holdCases } from "./hold-cases.js";
import { limitCases } from "./limit-cases.js";
import { longCases } from "./long-cases.js";
import { nbdCases } from "./nbd-cases.js";
import { stateCases } from "./state-cases.js";
import { tlsCases } from "./tls-cases.js";
import type { ConformanceCase } from "./case.js";

export const allCases: readonly ConformanceCase[] = [
  ...stateCases.filter((candidate) => candidate.id === "health"),
  ...nbdCases,
  ...tlsCases,
  ...longCases,
  ...blockStatusCases,
  ...flushCases,
  ...holdCases,
  ...changeCases,
  ...limitCases,
  ...authCases,
  ...stateCases.filter((candidate) => candidate.id !== "health"),
  ...deadlineCases,
];

export type { ConformanceCase } from "./case.js";
