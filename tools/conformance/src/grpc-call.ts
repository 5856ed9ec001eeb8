/**
 * One call of any method of a service, whatever its kind, with the
 * credentials a case chooses, reduced to the status it ends with, its
 * details and the first answer: what the authorization cases need to call
 * every Apparatus method as callers the suite's own client never is.
 */
import * as grpc from "@grpc/grpc-js";

export interface CallOutcome {
  readonly code: grpc.status;
  readonly details: string;
  /** The first answer, if the call got one. */
  readonly response: unknown;
}

type Definition = grpc.MethodDefinition<object, unknown>;

function unary(client: grpc.Client, definition: Definition, request: object, options: grpc.CallOptions): Promise<CallOutcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(definition.path, definition.requestSerialize, definition.responseDeserialize, request, new grpc.Metadata(), options, (error, response) => {
      resolve(error === null ? { code: grpc.status.OK, details: "", response } : { code: error.code, details: error.details, response: undefined });
    });
  });
}

/** A streaming call: the one request sent, then our side closed; its first answer or the status it ends with. */
function streaming(client: grpc.Client, definition: Definition, request: object, options: grpc.CallOptions): Promise<CallOutcome> {
  return new Promise((resolve) => {
    const { path, requestSerialize: serialize, responseDeserialize: deserialize } = definition;
    let stream: grpc.ClientReadableStream<unknown>;
    if (definition.requestStream) {
      const bidi = client.makeBidiStreamRequest(path, serialize, deserialize, new grpc.Metadata(), options);
      bidi.write(request);
      bidi.end();
      stream = bidi;
    } else {
      stream = client.makeServerStreamRequest(path, serialize, deserialize, request, new grpc.Metadata(), options);
    }
    stream.on("data", (response: unknown) => {
      stream.cancel();
      resolve({ code: grpc.status.OK, details: "", response });
    });
    stream.on("error", (error: grpc.ServiceError) => {
      resolve({ code: error.code, details: error.details, response: undefined });
    });
    stream.on("end", () => {
      resolve({ code: grpc.status.OK, details: "", response: undefined });
    });
  });
}

/** Calls `definition` at `address` once; never rejects. Bounded by `deadlineMs`. */
export async function callMethod(address: string, credentials: grpc.ChannelCredentials, definition: Definition, request: object, deadlineMs: number): Promise<CallOutcome> {
  const client = new grpc.Client(address, credentials);
  const options: grpc.CallOptions = { deadline: Date.now() + deadlineMs };
  try {
    if (!definition.requestStream && !definition.responseStream) return await unary(client, definition, request, options);
    if (definition.requestStream && !definition.responseStream) throw new Error(`${definition.path}: client-streaming methods are not called by the suite`);
    return await streaming(client, definition, request, options);
  } finally {
    client.close();
  }
}
