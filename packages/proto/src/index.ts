/**
 * @switchyard/proto: the only place that touches protobufjs and
 * proto-loader. It loads the `.proto` files (the single source of truth of
 * every control message), and exports their typed gRPC service constructors,
 * the generated message types, and the binary codec of the configuration
 * store. No logic lives here.
 */
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import type { ProtoGrpcType as ApparatusProto } from "./gen/apparatus.js";
import type { ProtoGrpcType as ControllerProto } from "./gen/controller.js";
import type { ProtoGrpcType as DeviceProto } from "./gen/device.js";
import type { ProtoGrpcType as HealthProto } from "./gen/health.js";
import type { StoreState, StoreState__Output } from "./gen/switchyard/v1/StoreState.js";

/** The folder holding the `.proto` files, shipped with the package. */
export const protoIncludeDir = fileURLToPath(new URL("../proto", import.meta.url));

export const protoFiles = [
  "switchyard/v1/table.proto",
  "switchyard/v1/store.proto",
  "switchyard/v1/apparatus.proto",
  "switchyard/v1/device.proto",
  "switchyard/v1/controller.proto",
  "grpc/health/v1/health.proto",
] as const;

/**
 * Loader options, in one place: the `generate` script passes the same flags to
 * proto-loader-gen-types, so the generated types describe exactly what the
 * loader produces. uint64 fields become numbers: byte offsets and generations
 * stay below 2^53.
 */
export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoIncludeDir],
};

export type SwitchyardGrpc = ApparatusProto & ControllerProto & DeviceProto & HealthProto;

let loaded: SwitchyardGrpc | undefined;

/** The typed gRPC object of every Switchyard service, loaded once. */
export function loadGrpc(): SwitchyardGrpc {
  if (loaded === undefined) {
    const definition = protoLoader.loadSync([...protoFiles], loaderOptions);
    loaded = grpc.loadPackageDefinition(definition) as unknown as SwitchyardGrpc;
  }
  return loaded;
}

let storeStateType: protobuf.Type | undefined;

function storeType(): protobuf.Type {
  if (storeStateType === undefined) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin: string, target: string) =>
      target.startsWith("/") ? target : `${protoIncludeDir}/${target}`;
    root.loadSync("switchyard/v1/store.proto", { keepCase: true });
    storeStateType = root.lookupType("switchyard.v1.StoreState");
  }
  return storeStateType;
}

/** Encodes the configuration store's state for one metadata slot. */
export function encodeStoreState(state: StoreState): Uint8Array {
  const type = storeType();
  // verify() wants enums as numbers; messages carry them by name (the
  // loader's convention). JournalEntry.state is StoreState's only enum.
  const changeStates = type.lookupEnum("switchyard.v1.ChangeState").values;
  const numbered = {
    ...state,
    journal: state.journal?.map((entry) => ({ ...entry, state: typeof entry.state === "string" ? (changeStates[entry.state] ?? entry.state) : entry.state })),
  };
  const problem = type.verify(numbered);
  if (problem !== null) throw new TypeError(`StoreState does not fit its schema: ${problem}`);
  return type.encode(type.fromObject(state)).finish();
}

/** Decodes a metadata slot's payload, with the same conventions as gRPC messages. */
export function decodeStoreState(bytes: Uint8Array): StoreState__Output {
  const type = storeType();
  const message = type.decode(bytes);
  return type.toObject(message, {
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
    oneofs: true,
  }) as StoreState__Output;
}

export * from "./messages.js";
export * from "./rpc.js";
export * from "./limits.js";
