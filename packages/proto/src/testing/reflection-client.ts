/**
 * A generic gRPC client that knows nothing of our `.proto` files and learns
 * them from the server, as grpcurl does: it lists the services over server
 * reflection (grpc.reflection.v1 or v1alpha ServerReflectionInfo), fetches
 * the file descriptors that declare a symbol, and calls a unary method by the
 * descriptor it fetched. Tests use it to hold every server to reflection.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import "protobufjs/ext/descriptor.js";
import { deadlineAfter } from "../rpc.js";

export type ReflectionVersion = "v1" | "v1alpha";

/** A reflection exchange or a call by descriptor: a loopback server answers in well under this. */
export const reflectionCallTimeoutMs = 5_000;

/** The reflection `.proto` files shipped with @grpc/reflection (its build/proto folder). */
function reflectionProtoDir(): string {
  const main = createRequire(import.meta.url).resolve("@grpc/reflection");
  return path.join(path.dirname(main), "..", "proto");
}

interface ReflectionResponse {
  readonly list_services_response?: { readonly service: readonly { readonly name: string }[] } | null;
  readonly file_descriptor_response?: { readonly file_descriptor_proto: readonly Buffer[] } | null;
  readonly error_response?: { readonly error_code: number; readonly error_message: string } | null;
}

type ReflectionStream = grpc.ClientDuplexStream<Record<string, string>, ReflectionResponse>;

interface ReflectionStub {
  ServerReflectionInfo(options: grpc.CallOptions): ReflectionStream;
  close(): void;
}

function isReflectionStub(value: unknown): value is ReflectionStub {
  return typeof value === "object" && value !== null && "ServerReflectionInfo" in value;
}

export class ReflectionClient {
  private readonly stub: ReflectionStub;

  /** `credentials`: plain by default; a client certificate's for a server with mutual TLS (grpcurl's -cacert, -cert, -key). */
  constructor(
    readonly address: string,
    version: ReflectionVersion = "v1",
    private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    const definition = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, {
      keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [reflectionProtoDir()],
    });
    const loaded = grpc.loadPackageDefinition(definition);
    const service = (loaded.grpc as grpc.GrpcObject).reflection as grpc.GrpcObject;
    const constructor = (service[version] as grpc.GrpcObject).ServerReflection as grpc.ServiceClientConstructor;
    const stub: unknown = new constructor(address, credentials);
    assert.ok(isReflectionStub(stub));
    this.stub = stub;
  }

  /** One request on its own stream, and its one answer; an error_response becomes a thrown error. */
  private ask(request: Record<string, string>): Promise<ReflectionResponse> {
    return new Promise((resolve, reject) => {
      const stream = this.stub.ServerReflectionInfo({ deadline: deadlineAfter(reflectionCallTimeoutMs) });
      stream.once("data", (response: ReflectionResponse) => {
        stream.end();
        if (response.error_response) {
          reject(new Error(`reflection error ${response.error_response.error_code}: ${response.error_response.error_message}`));
          return;
        }
        resolve(response);
      });
      stream.once("error", reject);
      stream.write(request);
    });
  }

  /** The full names of the services the server says it serves. */
  async listServices(): Promise<string[]> {
    const response = await this.ask({ list_services: "*" });
    return (response.list_services_response?.service ?? []).map((service) => service.name);
  }

  /** A protobufjs root built from the descriptors of the file declaring `symbol` and its dependencies. */
  async rootFor(symbol: string): Promise<protobuf.Root> {
    const response = await this.ask({ file_containing_symbol: symbol });
    const files = response.file_descriptor_response?.file_descriptor_proto ?? [];
    assert.ok(files.length > 0, `the server sent no file for ${symbol}`);
    // A FileDescriptorSet is `repeated FileDescriptorProto file = 1`: each file as field 1.
    const writer = protobuf.Writer.create();
    for (const file of files) writer.uint32((1 << 3) | 2).bytes(file);
    const root = protobuf.Root.fromDescriptor(writer.finish(), { keepCase: true });
    root.resolveAll();
    return root;
  }

  /** Calls unary `service`/`method` with `request`, knowing the types only from the server's descriptors. */
  async callUnary(service: string, method: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const root = await this.rootFor(service);
    const found = root.lookupService(service).methods[method];
    if (found === undefined) throw new Error(`${service} has no method ${method} in its descriptor`);
    const requestType = root.lookupType(found.requestType);
    const responseType = root.lookupType(found.responseType);
    const client = new grpc.Client(this.address, this.credentials);
    try {
      return await new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          `/${service}/${method}`,
          (value: Record<string, unknown>) => Buffer.from(requestType.encode(requestType.fromObject(value)).finish()),
          (bytes: Buffer) => responseType.toObject(responseType.decode(bytes), { longs: String, enums: String, defaults: true }),
          request,
          { deadline: deadlineAfter(reflectionCallTimeoutMs) },
          (error, response) => {
            if (error !== null) reject(error);
            else if (response === undefined) reject(new Error("answered without a message"));
            else resolve(response);
          },
        );
      });
    } finally {
      client.close();
    }
  }

  close(): void {
    this.stub.close();
  }
}
