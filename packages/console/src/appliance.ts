/**
 * The embedded default appliance (claim 15): one storage device in a data
 * folder, N apparatuses and a controller, all in this process and on
 * loopback. Built only from the packages' public APIs, as an appliance
 * builder would compose their own.
 */
import { join } from "node:path";
import { StorageDevice, authorizedDeviceHandlers, deviceServiceHandlers, logicalUnitBlockIo, logicalUnitExports } from "@switchyard/device";
import { caCertificateFile, identityFolder, nodeCredentials, presentedSubject, type ControlServing, type Identity, type ServedControlServer } from "@switchyard/security";
import { NbdServer, type BlockIo, type NbdTlsMode } from "@switchyard/nbd";
import { loadGrpc, RelayLink } from "@switchyard/proto";
import { LocalBackendSet, VirtualizationApparatus, serveApparatus, serveControlHere, type ServedApparatus } from "@switchyard/apparatus";
import { prepareController, type ControllerThreadMode, type EtcdSettings, type ProcessLink, type ServedController } from "@switchyard/controller";
import { applianceOperatorName } from "./appliance-certificates.js";
import { nbdServerTls } from "./nbd-tls.js";
import { followedCoordination, seedEtcdStore } from "./appliance-etcd.js";
import { processControl } from "./process-control.js";
import type { Composition } from "./composition.js";
import type { EndpointFile } from "./endpoints.js";
import { consoleFolderName, consoleHttps } from "./web/console-listen.js";
import type { ConsoleServer } from "./web/console-server.js";
import { startWebConsole } from "./web/console-thread.js";

/** The id of the device an appliance creates in a new data folder. */
export const applianceDeviceId = "dev0";

export interface ApplianceOptions {
  readonly dir: string;
  /** Where every gRPC server listens (control), and the device's LU exports: apparatuses reach the device there. */
  readonly host: string;
  /** Where the apparatuses' NBD servers listen for hosts (data); `host` if absent. */
  readonly dataHost?: string;
  /** Where the web console and /metrics listen; `host` if absent. */
  readonly httpHost?: string;
  readonly apparatusCount: number;
  /** Apparatus i serves NBD on nbdPort + i; 0 picks free ports. */
  readonly nbdPort: number;
  /** The device's gRPC port; apparatus i serves gRPC on grpcPort + 1 + i; 0 picks free ports. */
  readonly grpcPort: number;
  /** Where the device serves its LUs to apparatuses in other processes. */
  readonly deviceNbdPort: number;
  readonly luCount: number;
  readonly luSizeBytes: number;
  readonly extentSizeBytes: number;
  /**
   * "worker" (the default): the controller on a thread of its own, and
   * every gRPC server on a control thread (process-control.ts); "shared":
   * all on the thread that answers hosts.
   */
  readonly controllerThread: ControllerThreadMode;
  /** The parts it is built with (composition.ts); the production parts if absent. */
  readonly composition?: Composition;
  /** Where the web console and /metrics listen (0: a free port); none if absent. */
  readonly httpPort?: number;
  /**
   * A cluster certificate folder (appliance-certificates.ts): every gRPC
   * server (the device, each apparatus, the controller) then serves mutual
   * TLS with its authorization table, each part calls the others with its
   * own certificate, and the web console with the operator's. Plain gRPC
   * everywhere if absent.
   */
  readonly tlsDir?: string;
  /**
   * Hosts' NBD over TLS with each apparatus's node certificate (nbd-tls.ts);
   * "off" if absent. "on" and "require" need `tlsDir`.
   */
  readonly nbdTls?: NbdTlsMode;
  /** Coordination on an existing etcd cluster (appliance-etcd.ts); the device is the coordination if absent. */
  readonly etcd?: EtcdSettings;
}

export interface Appliance {
  readonly endpoints: EndpointFile;
  readonly device: StorageDevice;
  readonly apparatuses: readonly ServedApparatus[];
  readonly controller: ServedController;
  /** The web console, if options.httpPort was given. */
  readonly console: ConsoleServer | undefined;
  close(): Promise<void>;
}

/** Ports in a run of consecutive ones stay 0 when the base is 0. */
function portAt(base: number, offset: number): number {
  return base === 0 ? 0 : base + offset;
}

export interface ServedDevice {
  readonly grpcServer: ServedControlServer;
  readonly nbdServer: NbdServer;
  readonly grpc: string;
  readonly nbd: string;
}

/** Puts a device on the network: its LUs over NBD, its Device service over gRPC (with health and reflection). */
export async function serveDevice(
  device: StorageDevice,
  options: {
    readonly host: string;
    readonly grpcPort: number;
    readonly deviceNbdPort: number;
    readonly tlsFolder: string | undefined;
    readonly publishHost?: string;
    /** Where its gRPC server runs (process-control.ts); this thread if absent. */
    readonly serving?: ControlServing;
  },
): Promise<ServedDevice> {
  // Where others reach it (publish-host.ts): the listen host unless the caller names another.
  const reachedAt = options.publishHost ?? options.host;
  // With a certificate folder the LU exports require TLS: every apparatus (and
  // tool) presents a certificate, and lu-exports.ts checks it against the name.
  const tls = options.tlsFolder === undefined ? {} : { tls: nbdServerTls("require", options.tlsFolder) };
  const nbdServer = new NbdServer({ provider: logicalUnitExports(device), host: options.host, port: options.deviceNbdPort, ...tls });
  const nbd = await nbdServer.listen();
  const nbdAddress = `${reachedAt}:${nbd.port}`;
  // Apparatuses in other processes find each LU at the address the store records.
  await device.publishNbdAddress(nbdAddress);
  // The handlers read the addresses when asked, so the gRPC address can be filled in once bound.
  // The arbiter's clock: monotonic, expressed as wall-clock milliseconds for display.
  const addresses = { nbdAddress, grpcAddress: "", now: () => performance.timeOrigin + performance.now() };
  const service = loadGrpc().switchyard.v1.Device.service;
  const credentials = nodeCredentials(options.tlsFolder);
  const handlers = authorizedDeviceHandlers(credentials.secure, service, deviceServiceHandlers(device, addresses), () => device.leaseHolder());
  const serving = options.serving ?? serveControlHere;
  const grpcServer = await serving({ host: options.host, port: options.grpcPort, tls: credentials.serverTls, services: [{ service, handlers }] });
  addresses.grpcAddress = `${reachedAt}:${grpcServer.port}`;
  return { grpcServer, nbdServer, grpc: addresses.grpcAddress, nbd: nbdAddress };
}

/** Ports into the handlers of the device and apparatuses this process serves, where a control thread serves their gRPC. */
function processLinks(device: ServedDevice, apparatuses: readonly ServedApparatus[]): ProcessLink[] {
  const links: ProcessLink[] = [];
  const deviceLink = device.grpcServer.link?.();
  if (deviceLink !== undefined) links.push({ address: device.grpc, port: deviceLink });
  for (const entry of apparatuses) {
    const port = entry.link?.();
    if (port !== undefined) links.push({ address: entry.grpcAddress, port });
  }
  return links;
}

/** A link into the device's handlers for an apparatus of this process, presenting the apparatus's certificate subject. */
function deviceLinkOf(device: ServedDevice, tlsFolder: string | undefined): { deviceLink?: { address: string; link: RelayLink } } {
  const port = device.grpcServer.link?.();
  return port === undefined ? {} : { deviceLink: { address: device.grpc, link: new RelayLink(port, presentedSubject(tlsFolder)) } };
}

export async function startAppliance(options: ApplianceOptions): Promise<Appliance> {
  const followed = options.etcd === undefined ? undefined : followedCoordination(options.etcd, options.controllerThread);
  // The threads load gRPC, TLS and the controller while the device opens and syncs its files.
  const control = processControl(options.controllerThread);
  const candidate = prepareController(options.controllerThread);
  const device = await StorageDevice.open({
    dir: options.dir,
    create: { deviceId: applianceDeviceId, luCount: options.luCount, luSizeBytes: options.luSizeBytes, extentSizeBytes: options.extentSizeBytes },
    ...(options.composition?.deviceFiles === undefined ? {} : { files: options.composition.deviceFiles }),
    ...(followed === undefined ? {} : { coordination: followed }),
  }).catch(async (error: unknown) => {
    await candidate.abandon();
    await control.close();
    throw error;
  });
  const { tlsDir } = options;
  const tlsFolderOf = (identity: Identity): string | undefined => (tlsDir === undefined ? undefined : identityFolder(tlsDir, identity));
  const tlsOf = (identity: Identity): { tlsFolder?: string } => {
    const tlsFolder = tlsFolderOf(identity);
    return tlsFolder === undefined ? {} : { tlsFolder };
  };
  const served = await serveDevice(device, { ...options, tlsFolder: tlsFolderOf({ role: "device", id: device.id }), serving: control.plain });
  if (followed !== undefined && options.etcd !== undefined) await seedEtcdStore(device, followed, options.etcd);
  // With the errnos the device's NBD export answers: a full file system is ENOSPC to a host here too, not EIO.
  const backends = new Map<string, BlockIo>(device.lus.map((lu) => [lu.id, logicalUnitBlockIo(lu)]));
  // Every apparatus answers console requests by passing them to the controller, once it listens (control.forwardTo).
  const apparatuses: ServedApparatus[] = [];
  for (let index = 0; index < options.apparatusCount; index += 1) {
    const apparatus = new VirtualizationApparatus({
      id: `a${index}`,
      ...tlsOf({ role: "apparatus", id: `a${index}` }),
      deviceAddress: served.grpc,
      backends: new LocalBackendSet(backends, (apparatusId, key) => device.ioRefusal(apparatusId, key)),
      // Renewals and lease-holder lookups reach the device here over a MessagePort: no TLS client on the host I/O thread.
      ...deviceLinkOf(served, tlsFolderOf({ role: "apparatus", id: `a${index}` })),
      ...(options.composition?.apparatusBehaviour === undefined ? {} : { behaviour: options.composition.apparatusBehaviour }),
    });
    apparatuses.push(
      await serveApparatus(apparatus, {
        host: options.host,
        ...(options.dataHost === undefined ? {} : { nbdHost: options.dataHost }),
        nbdPort: portAt(options.nbdPort, index),
        nbdTls: nbdServerTls(options.nbdTls ?? "off", tlsFolderOf({ role: "apparatus", id: `a${index}` })),
        grpcPort: portAt(options.grpcPort, 1 + index),
        ...(options.composition?.apparatusNbdRequestCheck === undefined ? {} : { nbdRequestCheck: options.composition.apparatusNbdRequestCheck }),
        serving: control.forwarding(tlsFolderOf({ role: "apparatus", id: `a${index}` })),
      }),
    );
  }
  const first = apparatuses[0];
  if (first === undefined) throw new Error("an appliance needs at least one apparatus");
  const controller = await candidate.start(
    {
      id: first.apparatus.id,
      host: options.host,
      grpcPort: portAt(options.grpcPort, 1 + options.apparatusCount),
      deviceAddress: served.grpc,
      // The controller runs as the first apparatus: it presents that apparatus's certificate.
      ...tlsOf({ role: "apparatus", id: first.apparatus.id }),
      apparatuses: apparatuses.map((entry) => ({ id: entry.apparatus.id, grpc: entry.grpcAddress, nbd: entry.nbdAddress })),
      // Its calls to the apparatuses and the device here cross one MessagePort each, not TLS through the control thread.
      links: processLinks(served, apparatuses),
      ...(options.composition?.changePortsModule === undefined ? {} : { changePortsModule: options.composition.changePortsModule }),
      ...(options.etcd === undefined ? {} : { etcd: options.etcd }),
    },
  );
  control.forwardTo(controller.address);
  const operatorFolder = tlsFolderOf({ role: "operator", id: applianceOperatorName });
  // The console asks through apparatus a0's forwarding, as it would in a cluster of processes.
  const web =
    options.httpPort === undefined
      ? undefined
      : await startWebConsole(options.controllerThread, {
          host: options.httpHost ?? options.host,
          port: options.httpPort,
          controllerAddress: first.grpcAddress,
          credentialsFolder: operatorFolder,
          tokensFolder: join(options.dir, consoleFolderName),
          ...(await consoleHttps(options.httpHost ?? options.host, tlsFolderOf({ role: "apparatus", id: first.apparatus.id }))),
        }, apparatuses.map((entry) => entry.apparatus), [device]);
  return {
    endpoints: {
      pid: process.pid,
      device: { id: device.id, grpc: served.grpc, nbd: served.nbd },
      controller: { grpc: controller.address },
      apparatuses: apparatuses.map((entry) => ({ id: entry.apparatus.id, nbd: entry.nbdAddress, grpc: entry.grpcAddress })),
      ...(web === undefined ? {} : { console: { http: web.address, url: web.url, tokens: web.tokens } }),
      ...(tlsDir === undefined || operatorFolder === undefined ? {} : { tls: { ca: join(tlsDir, caCertificateFile), client_dir: operatorFolder, nbd: options.nbdTls ?? "off" } }),
    },
    device,
    apparatuses,
    controller,
    console: web,
    async close() {
      await web?.close();
      await controller.close();
      for (const entry of apparatuses) await entry.close();
      await served.nbdServer.close();
      await served.grpcServer.close();
      await control.close();
      await device.close();
      await followed?.close();
    },
  };
}
