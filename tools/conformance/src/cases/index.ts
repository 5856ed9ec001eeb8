/** Every case, in the order a run takes them: the NBD basics first, the change protocol after. */
import { changeCases } from "./change-cases.js";
import { holdCases } from "./hold-cases.js";
import { nbdCases } from "./nbd-cases.js";
import { stateCases } from "./state-cases.js";
import type { ConformanceCase } from "./case.js";

export const allCases: readonly ConformanceCase[] = [
  ...stateCases.filter((candidate) => candidate.id === "health"),
  ...nbdCases,
  ...holdCases,
  ...changeCases,
  ...stateCases.filter((candidate) => candidate.id !== "health"),
];

export type { ConformanceCase } from "./case.js";
