/**
 * The embedded coordination: one storage device holds the arbiter (its
 * epoch is the token), the configuration store (its sequence is the
 * revision) and the registrations, reached over the Device gRPC service.
 * This adapter only translates: every decision stays in the device
 * (device/src/arbiter.ts, configuration-store.ts, storage-device.ts).
 *
 * The port is the controller's DevicePort's coordination calls (the same
 * signatures, so `grpcDevicePort` fits it), plus RenewRegistration, which
 * apparatuses call; it is declared here so that this package depends on
 * `proto` alone.
 */
import assert from "node:assert/strict";
import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { errorCodeOf } from "@switchyard/proto";
import type {
  AcquireLeaseRequest,
  CommitDeltaRequest,
  Lease__Output,
  ReadStoreRequest,
  RegisterKeyRequest,
  RegisterKeyResponse__Output,
  RenewLeaseRequest,
  RenewRegistrationRequest,
  RenewRegistrationResponse__Output,
  FenceRequest,
  FenceResponse__Output,
  GetLeaseHolderRequest,
  LeaseHolder__Output,
  StoreDelta,
  StoreSnapshot__Output,
  StoreState,
  WriteStoreRequest,
  WriteStoreResponse__Output,
} from "@switchyard/proto";
import {
  CoordinationError,
  validUntilMs,
  type Candidate,
  type Coordination,
  type CoordinationErrorCode,
  type CoordinationStatus,
  type RegistrationStatus,
  type StoreRead,
  type Term,
  type TermHolder,
} from "./coordination.js";

export interface DeviceCoordinationPort {
  acquireLease(request: AcquireLeaseRequest): Promise<Lease__Output>;
  renewLease(request: RenewLeaseRequest): Promise<Lease__Output>;
  readStore(request: ReadStoreRequest): Promise<StoreSnapshot__Output>;
  writeStore(request: WriteStoreRequest): Promise<WriteStoreResponse__Output>;
  commitDelta(request: CommitDeltaRequest): Promise<WriteStoreResponse__Output>;
  registerKey(request: RegisterKeyRequest): Promise<RegisterKeyResponse__Output>;
  fence(request: FenceRequest): Promise<FenceResponse__Output>;
  renewRegistration(request: RenewRegistrationRequest): Promise<RenewRegistrationResponse__Output>;
  getLeaseHolder(request: GetLeaseHolderRequest): Promise<LeaseHolder__Output>;
  close(): void;
}

export interface EmbeddedCoordinationOptions {
  readonly port: DeviceCoordinationPort;
  /** The device's gRPC address, host:port, for status. */
  readonly deviceAddress: string;
  /** The caller's clock in milliseconds (monotonic): terms end on it. */
  readonly now: () => number;
}

export function embeddedCoordination(options: EmbeddedCoordinationOptions): Coordination {
  const { port, now } = options;
  return {
    backend: "embedded",
    campaign: async (candidate: Candidate, leaseMs: number): Promise<Term> => {
      const sentAtMs = now();
      const lease = await translated("campaign", "NOT_HOLDER", () =>
        port.acquireLease({ candidate_id: candidate.id, candidate_address: candidate.address, lease_ms: leaseMs }));
      return toTerm(lease, sentAtMs);
    },
    renew: async (term: Term): Promise<Term> => {
      assert.ok(term.granted, "only a granted term is renewed");
      const sentAtMs = now();
      // The device refuses a renewal after its own expiry; this one refuses
      // after ours, which comes first (coordination.ts, validUntilMs).
      if (sentAtMs >= term.validUntilMs) throw lapsed(term, sentAtMs);
      const lease = await translated("renew", "LEASE_LOST", () =>
        port.renewLease({ holder_id: term.holderId, epoch: term.token, lease_ms: term.leaseMs }));
      return toTerm(lease, sentAtMs);
    },
    readStore: async (): Promise<StoreRead> => {
      const snapshot = await translated("readStore", "NOT_HOLDER", () => port.readStore({ omit_extents: false, omit_journal: false }));
      assert.ok(snapshot.state !== null, "the device answers a store read with a state");
      return { state: snapshot.state, revision: snapshot.sequence };
    },
    writeStore: async (token: number, expectedRevision: number, state: StoreState): Promise<number> => {
      const written = await translated("writeStore", "NOT_HOLDER", () =>
        port.writeStore({ epoch: token, expected_sequence: expectedRevision, state }));
      return written.sequence;
    },
    commitDelta: async (token: number, delta: StoreDelta): Promise<number> => {
      // The device folds the delta in its store's turn, with its own checks
      // (storage-device.ts commitDelta: the epoch, the generation, a
      // switching mirror in sync), so the adapter only passes it on.
      const written = await translated("commitDelta", "NOT_HOLDER", () => port.commitDelta({ epoch: token, delta }));
      return written.sequence;
    },
    registerKey: async (token: number, apparatusId: string, registrationKey: string): Promise<void> => {
      await translated("registerKey", "NOT_HOLDER", () =>
        port.registerKey({ epoch: token, apparatus_id: apparatusId, registration_key: registrationKey }));
    },
    fence: async (token: number, apparatusId: string): Promise<void> => {
      await translated("fence", "NOT_HOLDER", () => port.fence({ epoch: token, apparatus_id: apparatusId }));
    },
    registrationStatus: async (apparatusId: string, registrationKey: string): Promise<RegistrationStatus> => {
      const answer = await translated("registrationStatus", "NOT_HOLDER", () =>
        port.renewRegistration({ apparatus_id: apparatusId, registration_key: registrationKey }));
      return toRegistrationStatus(answer);
    },
    leaseHolder: async (): Promise<TermHolder | undefined> => {
      const answer = await translated("leaseHolder", "NOT_HOLDER", () => port.getLeaseHolder({}));
      return answer.epoch === 0 ? undefined : { holderId: answer.holder_id, epoch: answer.epoch };
    },
    status: async (): Promise<CoordinationStatus> => {
      // The lightest read the device answers: no extents, no journal.
      const healthy = await port.readStore({ omit_extents: true, omit_journal: true }).then(() => true, (error: unknown) => {
        if (!isServiceError(error)) throw error;
        return false;
      });
      return { backend: "embedded", members: [{ name: "device", endpoint: options.deviceAddress, healthy, leader: true }] };
    },
    close: (): Promise<void> => {
      port.close();
      return Promise.resolve();
    },
  };
}

function toTerm(lease: Lease__Output, sentAtMs: number): Term {
  assert.ok(Number.isSafeInteger(lease.epoch) && lease.epoch > 0, "the arbiter grants positive epochs");
  return {
    holderId: lease.holder_id,
    holderAddress: lease.holder_address,
    token: lease.epoch,
    granted: lease.granted,
    leaseMs: lease.lease_ms,
    validUntilMs: validUntilMs(sentAtMs, lease.lease_ms),
  };
}

function toRegistrationStatus(answer: RenewRegistrationResponse__Output): RegistrationStatus {
  switch (answer.status) {
    case "REGISTRATION_STATUS_GRANTED":
      return "granted";
    case "REGISTRATION_STATUS_FENCED":
      return "fenced";
    case "REGISTRATION_STATUS_UNKNOWN":
      return "unknown";
    case "REGISTRATION_STATUS_UNSPECIFIED":
      // A device always says which; an unset status is a broken peer.
      throw new CoordinationError("UNAVAILABLE", "the device answered a registration renewal without a status");
    default: {
      const unhandled: never = answer.status;
      throw new Error(`unknown registration status ${String(unhandled)}`);
    }
  }
}

function lapsed(term: Term, nowMs: number): CoordinationError {
  return new CoordinationError("LEASE_LOST",
    `the term of ${term.holderId} (token ${term.token}) lapsed at ${term.validUntilMs} ms (now ${nowMs} ms): campaign again`);
}

/**
 * Runs one device call, mapping its gRPC status to a coordination code:
 * FAILED_PRECONDITION (stale epoch, lease not held) means `refusal` for this
 * call, unless the device's error code says it was a stale generation or a
 * mirror not in sync; ABORTED is a stale store sequence. Anything unmapped
 * is rethrown.
 */
async function translated<Response>(what: string, refusal: CoordinationErrorCode, call: () => Promise<Response>): Promise<Response> {
  try {
    return await call();
  } catch (error) {
    if (!isServiceError(error)) throw error;
    const code = codeOf(error.code, refusal, errorCodeOf(error));
    if (code === undefined) throw error;
    throw new CoordinationError(code, `${what}: ${error.details}`, { cause: error });
  }
}

function codeOf(status: grpcStatus, refusal: CoordinationErrorCode, deviceCode: string | undefined): CoordinationErrorCode | undefined {
  switch (status) {
    case grpcStatus.FAILED_PRECONDITION:
      // The device names its code (device-service.ts); these two are not about who holds the term.
      if (deviceCode === "STALE_GENERATION" || deviceCode === "MIRROR_NOT_IN_SYNC") return deviceCode;
      return refusal;
    case grpcStatus.ABORTED:
      return "STALE_REVISION";
    case grpcStatus.UNAVAILABLE:
    case grpcStatus.DEADLINE_EXCEEDED:
      return "UNAVAILABLE";
    case grpcStatus.INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpcStatus.RESOURCE_EXHAUSTED:
      return "LIMIT_EXCEEDED";
    default:
      return undefined;
  }
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && "code" in error && typeof error.code === "number" && "details" in error;
}
