/**
 * Entry point of a process's control thread (control-thread.ts): serves
 * gRPC servers whose calls it relays, as bytes, to handlers on the thread
 * that started it, each with health and reflection and, where asked, the
 * Controller forwarding; stops them when told.
 */
import { parentPort, type MessagePort } from "node:worker_threads";
import { addStandardServices, controlServerOptions, grpcShutdownGraceMs, RelaySender, stopGrpc } from "@switchyard/proto";
import { GuardedServer, nodeCredentials, quietIpServerNameWarning, type TlsMaterial } from "@switchyard/security";
import { controllerForwarder, type ControllerForwarder } from "./controller-forward.js";
import type { ControlThreadReply, ControlThreadRequest } from "./control-thread.js";

interface Running {
  readonly server: GuardedServer;
  readonly relay: MessagePort;
  readonly forwarder: ControllerForwarder | undefined;
}

const running = new Map<number, Running>();
/** The controller's address, as the process last said. */
let controllerAddress: string | undefined;

/** Buffers arrive as plain byte arrays; TLS wants Buffers. */
function material(tls: TlsMaterial | undefined): TlsMaterial | undefined {
  return tls === undefined ? undefined : { ca: Buffer.from(tls.ca), certificate: Buffer.from(tls.certificate), key: Buffer.from(tls.key) };
}

async function serve(request: Extract<ControlThreadRequest, { kind: "serve" }>): Promise<ControlThreadReply> {
  const server = new GuardedServer(controlServerOptions);
  new RelaySender(request.relay).registerOn(server, request.methods);
  const forwarder = request.forwarding === undefined ? undefined : controllerForwarder(() => controllerAddress, nodeCredentials(request.forwarding.tlsFolder));
  if (forwarder !== undefined) server.addService(forwarder.service, forwarder.handlers);
  try {
    await addStandardServices(server);
    const port = await server.listen(request.host, request.port, material(request.tls));
    running.set(request.server, { server, relay: request.relay, forwarder });
    return { kind: "served", server: request.server, port };
  } catch (error) {
    forwarder?.close();
    request.relay.close();
    server.forceShutdown();
    return { kind: "failed", server: request.server, message: error instanceof Error ? error.message : String(error) };
  }
}

async function stop(server: number): Promise<void> {
  const entry = running.get(server);
  if (entry === undefined) return;
  running.delete(server);
  await stopGrpc(entry.server, grpcShutdownGraceMs);
  entry.forwarder?.close();
  entry.relay.close();
}

function main(): void {
  quietIpServerNameWarning();
  const port = parentPort;
  if (port === null) throw new Error("control-worker.js runs only as a worker thread");
  const tell = (reply: ControlThreadReply): void => {
    port.postMessage(reply);
  };
  port.on("message", (request: ControlThreadRequest) => {
    switch (request.kind) {
      case "serve":
        void serve(request).then(tell);
        return;
      case "stop":
        void stop(request.server).then(() => {
          tell({ kind: "stopped", server: request.server });
        });
        return;
      case "forward-to":
        controllerAddress = request.address;
        return;
      case "close":
        void Promise.all([...running.keys()].map(stop)).then(() => {
          port.close();
        });
        return;
    }
  });
}

main();
