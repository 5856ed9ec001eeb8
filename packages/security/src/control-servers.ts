/**
 * Where a process's gRPC servers run (issue 20 item 3). A composition that
 * serves host I/O hands its servers to a control thread (the controller
 * package's ControlThread), so that TLS, HTTP/2 and the connection gate run
 * off the thread that answers hosts, and only each call's handler runs
 * there; a test, or a process told to use one processor, serves them on
 * its own thread (the apparatus package's serveControlHere). Either way a
 * server is described the same: where it listens, with what certificate,
 * and which services.
 */
import type { MessagePort } from "node:worker_threads";
import type * as grpc from "@grpc/grpc-js";
import type { TlsMaterial } from "./grpc-credentials.js";

/** A service and the handlers that answer it, as grpc.Server.addService takes them. */
export interface ServedService {
  readonly service: grpc.ServiceDefinition;
  readonly handlers: grpc.UntypedServiceImplementation;
}

export interface ControlServerSpec {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Mutual TLS with this node's server certificate, or plain HTTP/2 if undefined. */
  readonly tls: TlsMaterial | undefined;
  /** Its own services; health and reflection of them are added wherever it runs. */
  readonly services: readonly ServedService[];
}

export interface ServedControlServer {
  /** The port bound. */
  readonly port: number;
  /** Stops it, cutting calls still open after grpcShutdownGraceMs. */
  close(): Promise<void>;
  /**
   * A new port into its handlers for a caller on another thread of this
   * process (proto's RelayLink), where the handlers run apart from the
   * server (a control thread); absent where they run with it. Closed with
   * the server.
   */
  link?(): MessagePort;
}

/** Starts a control server described by `spec`, wherever the implementation runs them. */
export type ControlServing = (spec: ControlServerSpec) => Promise<ServedControlServer>;
