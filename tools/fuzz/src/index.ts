/**
 * @switchyard/fuzz: seeded, replayable fuzzers of the project's NBD server
 * and gRPC services, with spec-based oracles.
 */
export { FuzzFailure, FuzzTally, summarize, type FuzzFailureCode, type FuzzReport } from "./fuzz-report.js";
export { SeededRandom, caseSeed } from "./seeded-random.js";
export * from "./limits.js";
export { runNbdFuzz, type NbdFuzzOptions } from "./nbd-fuzzer.js";
export { zeroExport, type NbdFuzzExport } from "./nbd-wire.js";
export { allowedAnswers, type AllowedAnswers, type FuzzRequest } from "./nbd-transmission-fuzz.js";
export type { TransmissionEntry } from "./nbd-handshake-fuzz.js";
export { fuzzRunSettings, fuzzCaseSeedVariable, type FuzzRunSettings } from "./run-settings.js";
export { fuzzMethods, randomMessage, mutatedBytes, type FuzzMethod } from "./grpc-messages.js";
export { runGrpcFuzz, type GrpcFuzzOptions, type GrpcFuzzReport, type GrpcFuzzTarget } from "./grpc-fuzzer.js";
