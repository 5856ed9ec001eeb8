/**
 * Loading the `.proto` files for gRPC: the files, the loader options every
 * service and the generator share, and the package definition they make.
 */
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType as ApparatusProto } from "./gen/apparatus.js";
import type { ProtoGrpcType as ControllerProto } from "./gen/controller.js";
import type { ProtoGrpcType as DeviceProto } from "./gen/device.js";
import type { ProtoGrpcType as HealthProto } from "./gen/health.js";

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

let definition: protoLoader.PackageDefinition | undefined;
let loaded: SwitchyardGrpc | undefined;

/** The package definition of every Switchyard service and message, loaded once (server reflection describes it). */
export function packageDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync([...protoFiles], loaderOptions);
  return definition;
}

/** The typed gRPC object of every Switchyard service, loaded once. */
export function loadGrpc(): SwitchyardGrpc {
  loaded ??= grpc.loadPackageDefinition(packageDefinition()) as unknown as SwitchyardGrpc;
  return loaded;
}
