/**
 * Puts an apparatus on the network: an NBD server for hosts and a gRPC server
 * for control (the Apparatus service, with health and reflection), on this
 * thread or wherever `serving` runs control servers (a control thread).
 */
import type { MessagePort } from "node:worker_threads";
import { addStandardServices, controlServerOptions, grpcShutdownGraceMs, loadGrpc, stopGrpc } from "@switchyard/proto";
import { NbdServer, type NbdRequestCheck, type NbdServerTls } from "@switchyard/nbd";
import { GuardedServer, type ControlServing } from "@switchyard/security";
import type { VirtualizationApparatus } from "./apparatus.js";
import { authorizedApparatusHandlers } from "./apparatus-authorization.js";
import { apparatusHandlers } from "./apparatus-service.js";

export interface ServeApparatusOptions {
  /** Where its gRPC (control) listens, and its NBD server unless nbdHost says otherwise. */
  readonly host: string;
  /** Where hosts reach its NBD server, if not on `host` (`up --data-host`). */
  readonly nbdHost?: string;
  /** 0 picks a free port. */
  readonly nbdPort: number;
  readonly grpcPort: number;
  /** Hosts' NBD over TLS (NBD_OPT_STARTTLS, client certificates of the CA); plain if absent. */
  readonly nbdTls?: NbdServerTls;
  /** How its NBD server checks each host request (NbdServerOptions.requestCheck): the spec's rules if absent. */
  readonly nbdRequestCheck?: NbdRequestCheck;
  /**
   * Where its gRPC server runs: a process that serves hosts passes its
   * control thread's (the controller package's ControlThread, which also
   * adds the Controller forwarding); this thread if absent.
   */
  readonly serving?: ControlServing;
}

/** Serves a control server on this thread: a GuardedServer with health and reflection. */
export const serveControlHere: ControlServing = async (spec) => {
  const server = new GuardedServer(controlServerOptions);
  for (const { service, handlers } of spec.services) server.addService(service, handlers);
  await addStandardServices(server);
  const port = await server.listen(spec.host, spec.port, spec.tls);
  return { port, close: () => stopGrpc(server, grpcShutdownGraceMs) };
};

export interface ServedApparatus {
  readonly apparatus: VirtualizationApparatus;
  readonly nbdAddress: string;
  readonly grpcAddress: string;
  readonly nbdServer: NbdServer;
  /** A port into its Apparatus handlers for the controller on another thread of this process (ServedControlServer.link). */
  readonly link?: () => MessagePort;
  close(): Promise<void>;
}

export async function serveApparatus(apparatus: VirtualizationApparatus, options: ServeApparatusOptions): Promise<ServedApparatus> {
  const v1 = loadGrpc().switchyard.v1;
  const { secure, serverTls } = apparatus.credentials;
  const checked = secure && apparatus.checksCallers;
  const holders = checked && apparatus.checksEpochHolders ? apparatus.holders : undefined;
  const handlers = authorizedApparatusHandlers(checked, v1.Apparatus.service, apparatusHandlers(apparatus, holders), holders);
  const serving = options.serving ?? serveControlHere;
  const grpcServer = await serving({ host: options.host, port: options.grpcPort, tls: serverTls, services: [{ service: v1.Apparatus.service, handlers }] });
  const grpcPort = grpcServer.port;
  const link = grpcServer.link?.bind(grpcServer);
  const nbdHost = options.nbdHost ?? options.host;
  const nbdServer = new NbdServer({
    provider: apparatus.exports(),
    host: nbdHost,
    port: options.nbdPort,
    ...(options.nbdTls === undefined ? {} : { tls: options.nbdTls }),
    ...(options.nbdRequestCheck === undefined ? {} : { requestCheck: options.nbdRequestCheck }),
  });
  const nbd = await nbdServer.listen();
  apparatus.nbdAddress = `${nbdHost}:${nbd.port}`;
  apparatus.grpcAddress = `${options.host}:${grpcPort}`;
  return {
    apparatus,
    nbdAddress: apparatus.nbdAddress,
    grpcAddress: apparatus.grpcAddress,
    nbdServer,
    ...(link === undefined ? {} : { link }),
    async close() {
      await nbdServer.close();
      await grpcServer.close();
      await apparatus.close();
    },
  };
}
