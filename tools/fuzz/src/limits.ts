/**
 * The named limits of the fuzzers, with units and why each number.
 */
import assert from "node:assert/strict";

/**
 * How long the NBD server may take to answer one frame or close the
 * connection before the fuzzer calls it a hang. A loopback round trip is
 * well under a millisecond; 5 s leaves room for a loaded 2-CPU CI machine
 * and is still far below any timeout a real client uses.
 */
export const nbdReplyTimeoutMs = 5_000;

/** Options sent in one fuzz handshake: enough to reach every option order that matters. */
export const nbdOptionsPerCaseMax = 8;

/** Requests sent in one fuzz transmission: long enough to mix writes, reads and errors. */
export const nbdRequestsPerCaseMax = 48;

/**
 * Size of each fuzzed export: small, so the shadow copy checked on every
 * READ is cheap, and big enough for many distinct extents.
 */
export const nbdFuzzExportSizeBytes = 1024 * 1024;

/**
 * The largest READ/WRITE the fuzzed server accepts (its maximum block
 * size). Far below the default 32 MiB so that fuzzed lengths around the limit
 * cost little memory and time.
 */
export const nbdFuzzRequestSizeMaxBytes = 64 * 1024;

/** A WRITE longer than the maximum but at most this long is read and refused; longer ones end the session. */
export const nbdFuzzWriteDiscardMaxBytes = 4 * nbdFuzzRequestSizeMaxBytes;

/** How long the fuzzed server waits for in-flight requests after DISC or end of input. */
export const nbdFuzzDisconnectTimeoutMs = 2_000;

/** Bound on each gRPC call's answer: a deadline passed to grpc-js, so no call can hang the run. */
export const grpcCallDeadlineMs = 5_000;

/** Largest random message a gRPC fuzz input sends: well below every server's receive limit. */
export const grpcRandomBytesMax = 512;

/** Elements generated for a repeated field, and depth of nested messages: keeps messages small and finite. */
export const grpcRepeatedMax = 4;
export const grpcNestingDepthMax = 4;

/** Longest random string field, in characters. */
export const grpcStringLengthMax = 48;

/** Failures kept in a report: the first ones are the useful ones; the rest are counted. */
export const failuresKeptMax = 20;

/** Environment variable: how many inputs a fuzz test runs, instead of its CI count. */
export const fuzzInputsVariable = "SWITCHYARD_FUZZ_INPUTS";
/** Environment variable: the run seed, to replay a failure or explore new inputs. */
export const fuzzSeedVariable = "SWITCHYARD_FUZZ_SEED";

assert.ok(nbdFuzzWriteDiscardMaxBytes >= nbdFuzzRequestSizeMaxBytes);
assert.ok(nbdFuzzExportSizeBytes > nbdFuzzRequestSizeMaxBytes);
