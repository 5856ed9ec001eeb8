/**
 * The control thread (issue 20 item 3): one worker per process that runs
 * the process's gRPC servers, so that TLS, HTTP/2, the connection gate,
 * health, reflection and the forwarding of console calls to the controller
 * run off the thread that parses, maps and answers host requests. Each
 * call's handler still runs on that thread, reached over a MessagePort as
 * bytes (proto's rpc-relay.ts): it changes the state host I/O reads (an
 * apparatus's faces and holds, a device's store and mirrors), and a hold
 * must take effect between two host requests.
 *
 * The controller's own server is not here: the controller runs on a thread
 * of its own (controller-thread.ts), which serves itself.
 */
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { RelayEndpoint, type RelayedMethod } from "@switchyard/proto";
import type { ControlServerSpec, ControlServing, ServedControlServer, TlsMaterial } from "@switchyard/security";

/** A server's Controller forwarding (controller-forward.ts): the node's certificate folder it calls the controller with. */
export interface ControlForwarding {
  readonly tlsFolder: string | undefined;
}

/** From the process to its control thread. */
export type ControlThreadRequest =
  | {
      readonly kind: "serve";
      readonly server: number;
      readonly host: string;
      readonly port: number;
      readonly tls: TlsMaterial | undefined;
      readonly methods: readonly RelayedMethod[];
      readonly forwarding: ControlForwarding | undefined;
      readonly relay: MessagePort;
    }
  | { readonly kind: "stop"; readonly server: number }
  | { readonly kind: "forward-to"; readonly address: string | undefined }
  | { readonly kind: "close" };

/** From the control thread back: each serve or stop is answered once. */
export type ControlThreadReply =
  | { readonly kind: "served"; readonly server: number; readonly port: number }
  | { readonly kind: "failed"; readonly server: number; readonly message: string }
  | { readonly kind: "stopped"; readonly server: number };

/** A closing control thread gets this long to stop its servers before it is terminated. */
export const controlThreadStopTimeoutMs = 5_000;

interface Pending {
  resolve(port: number): void;
  reject(error: Error): void;
}

/** An endpoint answering `spec`'s services on this thread, and the port its caller gets. */
function attachedEndpoint(spec: ControlServerSpec): { endpoint: RelayEndpoint; port: MessagePort } {
  const endpoint = new RelayEndpoint();
  for (const { service, handlers } of spec.services) endpoint.addService(service, handlers);
  const { port1, port2 } = new MessageChannel();
  endpoint.attach(port1);
  port1.unref();
  return { endpoint, port: port2 };
}

export class ControlThread {
  private nextServer = 1;
  private readonly pending = new Map<number, Pending>();
  private closing = false;
  private readonly exited: Promise<number>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => {
      worker.once("exit", resolve);
    });
    worker.on("message", (reply: ControlThreadReply) => {
      this.settle(reply);
    });
    // Without its control thread a process can neither be changed nor fenced cleanly: it must not go on serving hosts.
    worker.on("error", (error: Error) => {
      throw new Error(`the control thread failed: ${error.message}`, { cause: error });
    });
    void this.exited.then((code) => {
      if (!this.closing) throw new Error(`the control thread exited with code ${code} while serving`);
    });
  }

  static start(): ControlThread {
    const worker = new Worker(new URL("./control-worker.js", import.meta.url));
    // The host I/O servers keep a serving process alive, and the thread only while it owes an answer (ask):
    // a start that fails half-way must still end the process.
    worker.unref();
    return new ControlThread(worker);
  }

  /** Serves each spec on this thread, with a Controller forwarding if `forwarding` is given. */
  serving(forwarding?: ControlForwarding): ControlServing {
    return (spec) => this.serve(spec, forwarding);
  }

  /** Where every forwarding of this thread sends console calls: the controller's address, or undefined until one listens. */
  forwardTo(address: string | undefined): void {
    this.send({ kind: "forward-to", address });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.send({ kind: "close" });
    const timer = setTimeout(() => void this.worker.terminate(), controlThreadStopTimeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private async serve(spec: ControlServerSpec, forwarding: ControlForwarding | undefined): Promise<ServedControlServer> {
    const { endpoint, port: port2 } = attachedEndpoint(spec);
    // Links (ServedControlServer.link): each its own endpoint on the same handlers, closed with the server.
    const links: RelayEndpoint[] = [];
    const server = this.nextServer;
    this.nextServer += 1;
    const request: ControlThreadRequest = { kind: "serve", server, host: spec.host, port: spec.port, tls: spec.tls, methods: endpoint.methods, forwarding, relay: port2 };
    let port: number;
    try {
      port = await this.ask(server, request, [port2]);
    } catch (error) {
      endpoint.detach();
      throw error;
    }
    return {
      port,
      close: async () => {
        await this.ask(server, { kind: "stop", server });
        endpoint.detach();
        for (const link of links.splice(0)) link.detach();
      },
      link: () => {
        const linked = attachedEndpoint(spec);
        links.push(linked.endpoint);
        return linked.port;
      },
    };
  }

  private ask(server: number, request: ControlThreadRequest, moved: MessagePort[] = []): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.set(server, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(request, moved);
    });
  }

  private send(request: ControlThreadRequest): void {
    this.worker.postMessage(request);
  }

  private settle(reply: ControlThreadReply): void {
    const pending = this.pending.get(reply.server);
    if (pending === undefined) return;
    this.pending.delete(reply.server);
    if (this.pending.size === 0) this.worker.unref();
    switch (reply.kind) {
      case "served":
        pending.resolve(reply.port);
        return;
      case "stopped":
        pending.resolve(0);
        return;
      case "failed":
        pending.reject(new Error(reply.message));
        return;
    }
  }
}
