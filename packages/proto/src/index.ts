/**
 * @switchyard/proto: the only place that touches protobufjs and
 * proto-loader. It loads the `.proto` files (the single source of truth of
 * every control message), and exports their typed gRPC service constructors,
 * the generated message types, the binary codec of the configuration store
 * and the one way a StoreDelta folds into a StoreState (store-delta.ts),
 * the standard health service, and the shape of the export name an apparatus
 * opens a device's LU by. No protocol logic lives here.
 */
import protobuf from "protobufjs";
import { protoIncludeDir } from "./grpc-loader.js";
import type { StoreState, StoreState__Output } from "./gen/switchyard/v1/StoreState.js";
import type { StoreDelta, StoreDelta__Output } from "./gen/switchyard/v1/StoreDelta.js";

/** The store's message types, looked up once: a commit on a switch's path encodes and decodes a delta, and a lookup by path cost 0.1-0.4 ms of it when cold. */
interface StoreTypes {
  readonly StoreState: protobuf.Type;
  readonly StoreDelta: protobuf.Type;
  /** ChangeState's numbers by name. */
  readonly changeStates: Readonly<Record<string, number>>;
  /** HoldMode's numbers by name. */
  readonly holdModes: Readonly<Record<string, number>>;
}

let storeTypes: StoreTypes | undefined;

function loadStoreTypes(): StoreTypes {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string) =>
    target.startsWith("/") ? target : `${protoIncludeDir}/${target}`;
  root.loadSync("switchyard/v1/store.proto", { keepCase: true });
  return {
    StoreState: root.lookupType("switchyard.v1.StoreState"),
    StoreDelta: root.lookupType("switchyard.v1.StoreDelta"),
    changeStates: root.lookupEnum("switchyard.v1.ChangeState").values,
    holdModes: root.lookupEnum("switchyard.v1.HoldMode").values,
  };
}

function loadedStoreTypes(): StoreTypes {
  storeTypes ??= loadStoreTypes();
  return storeTypes;
}

function storeType(name: "StoreState" | "StoreDelta"): protobuf.Type {
  return loadedStoreTypes()[name];
}

/** Journal entries with their enums by number, as verify() wants them; messages carry them by name (the loader's convention). */
function numberedJournalState<Entry extends { state?: unknown; hold_mode?: unknown }>(entry: Entry): Entry {
  const { changeStates, holdModes } = loadedStoreTypes();
  const numbered = { ...entry, state: byNumber(changeStates, entry.state) };
  return entry.hold_mode === undefined ? numbered : { ...numbered, hold_mode: byNumber(holdModes, entry.hold_mode) };
}

function byNumber(values: Readonly<Record<string, number>>, value: unknown): unknown {
  return typeof value === "string" ? (values[value] ?? value) : value;
}

function encodeVerified(type: protobuf.Type, numbered: object, message: object): Uint8Array {
  const problem = type.verify(numbered);
  if (problem !== null) throw new TypeError(`${type.name} does not fit its schema: ${problem}`);
  return type.encode(type.fromObject(message)).finish();
}

const decodeOptions: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, arrays: true, oneofs: true };

/** Encodes the configuration store's state for one metadata slot. */
export function encodeStoreState(state: StoreState): Uint8Array {
  const type = storeType("StoreState");
  const numbered = { ...state, journal: state.journal?.map((entry) => numberedJournalState(entry)) };
  return encodeVerified(type, numbered, state);
}

/** Decodes a metadata slot's payload, with the same conventions as gRPC messages. */
export function decodeStoreState(bytes: Uint8Array): StoreState__Output {
  const type = storeType("StoreState");
  return type.toObject(type.decode(bytes), decodeOptions) as StoreState__Output;
}

/** Encodes one delta for the store's log. */
export function encodeStoreDelta(delta: StoreDelta): Uint8Array {
  const type = storeType("StoreDelta");
  const entry = delta.journal_entry;
  const numbered = {
    ...delta,
    journal_entry: entry === undefined || entry === null ? entry : numberedJournalState(entry),
    earlier_journal_entries: delta.earlier_journal_entries?.map((earlier) => numberedJournalState(earlier)),
  };
  return encodeVerified(type, numbered, delta);
}

/** Decodes one record of the store's log. */
export function decodeStoreDelta(bytes: Uint8Array): StoreDelta__Output {
  const type = storeType("StoreDelta");
  return type.toObject(type.decode(bytes), decodeOptions) as StoreDelta__Output;
}

export * from "./messages.js";
export { loadGrpc, loaderOptions, packageDefinition, protoFiles, protoIncludeDir, type SwitchyardGrpc } from "./grpc-loader.js";
export * from "./rpc.js";
export { integerOutOfRange, integerRangeRefusal, requestIntegerMax } from "./integer-range.js";
export * from "./limits.js";
export { registrationKeyDigest } from "./registration-key.js";
export { applyStoreDelta, checkStoreDelta, StoreDeltaError, type StoreDeltaErrorCode } from "./store-delta.js";
export { addStandardServices, healthServiceName, servedServiceNames } from "./server-services.js";
export { HealthService, healthHandlers, healthWatchersMax, overallServiceName, type ServingStatus } from "./health.js";
export { apparatusExportName, parseExportName, type ApparatusIdentity } from "./export-name.js";
export { externalNameBytesMax, externalNameRule, isExternalName } from "./external-name.js";
export { RelayEndpoint, RelaySender, handlerTypeOf, type RelayedCaller, type RelayedMethod, type RelayReply, type RelayRequest } from "./rpc-relay.js";
export { RelayLink } from "./rpc-relay-link.js";
