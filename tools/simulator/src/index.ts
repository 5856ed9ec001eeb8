/**
 * @switchyard/simulator: seeded deterministic simulation of the change
 * protocol (issue 3), driving the real change-control core and real
 * apparatuses on virtual time.
 */
export { simulate, describeFailure, changeDurationMaxMs, phaseTimeoutMs } from "./simulation.js";
export type { FencingModel, SimulationOptions, SimulationResult } from "./simulation.js";
export type { ChangeRecord } from "./simulated-change.js";
export { Random } from "./prng.js";
export { VirtualWorld, eventsPerRunMax } from "./virtual-world.js";
