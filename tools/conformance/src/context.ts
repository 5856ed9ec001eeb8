/**
 * What every case works with: the suite as controller, the volumes it
 * serves through the apparatus and hosts' NBD connections to them, direct
 * (administrator) access to the storage areas behind them on the device,
 * and the slow-disk switch when the device is the suite's own; in a run
 * with TLS, the certificates; and what the features file declares. `reset`
 * brings the apparatus back to the baseline table between cases, so that
 * one failing case leaves nothing behind for the next.
 */
import { NbdClient, type NbdClientTls } from "@switchyard/nbd";
import { callUnary, deadlineAfter, registrationKeyDigest, type Inventory__Output } from "@switchyard/proto";
import type { SuiteCertificates } from "./certificates.js";
import { CheckFailure, SkipCase } from "./check.js";
import type { Features } from "./features.js";
import { baselineTable, blockBytes, planLayout, stamp, stampValue, type Area, type Layout, type TestVolume } from "./layout.js";
import type { SlowDisk } from "./suite-device.js";
import { callTimeoutMs, SuiteController } from "./suite-controller.js";

/** Host requests that the protocol holds wait until Release: far longer than any case. */
const nbdTimeoutMs = 30_000;
/** Generations between baselines: a case applies at most a few changes on top of one. */
const generationStep = 10;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export function endpointOf(address: string): Endpoint {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** What a run is made of beside the controller: the suite's device (if its own), certificates, features. */
export interface RunSetting {
  /** The suite's own device's slow-disk switch; undefined against a tester's device. */
  readonly disk: SlowDisk | undefined;
  readonly writeDelayMs: number;
  /** The run's certificates; undefined in a run without TLS. */
  readonly certificates: SuiteCertificates | undefined;
  readonly features: Features;
}

export class CaseContext {
  readonly controller: SuiteController;
  readonly layout: Layout;
  readonly nbd: Endpoint;
  /** The suite's own device's slow-disk switch; undefined against a tester's device. */
  readonly disk: SlowDisk | undefined;
  readonly writeDelayMs: number;
  readonly certificates: SuiteCertificates | undefined;
  readonly features: Features;
  /** The generation of the baseline table the apparatus has now. */
  generation = 0;
  volumeA!: NbdClient;
  volumeB!: NbdClient;
  private readonly deviceNbd: Endpoint;
  private readonly luClients = new Map<number, NbdClient>();
  private changeCount = 0;
  private stampCount = 0;

  private constructor(controller: SuiteController, layout: Layout, nbd: Endpoint, deviceNbd: Endpoint, setting: RunSetting) {
    this.controller = controller;
    this.layout = layout;
    this.nbd = nbd;
    this.deviceNbd = deviceNbd;
    this.disk = setting.disk;
    this.writeDelayMs = setting.writeDelayMs;
    this.certificates = setting.certificates;
    this.features = setting.features;
  }

  /** The suite takes the lease, loads the baseline into the apparatus, registers it, and connects as a host. */
  static async open(controller: SuiteController, nbdAddress: string, setting: RunSetting): Promise<CaseContext> {
    await controller.takeLease();
    const snapshot = await controller.readStore();
    if (snapshot.state === null) throw new CheckFailure("the device answered ReadStore without a state");
    const inventory = await callUnary<Inventory__Output>((done) => controller.device.GetInventory({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
    const layout = planLayout(snapshot.state);
    const context = new CaseContext(controller, layout, endpointOf(nbdAddress), endpointOf(inventory.nbd_address), setting);
    context.generation = snapshot.state.generation + generationStep;
    const state = await controller.getState();
    controller.apparatusId = state.apparatus_id;
    if (state.apparatus_id === "") throw new CheckFailure("GetState gives no apparatus_id: the suite cannot register it with the device");
    await controller.loadTable(baselineTable(layout, context.generation));
    await controller.register();
    await context.connectHosts();
    return context;
  }

  /** A change id never used before in this run. */
  changeId(label: string): string {
    this.changeCount += 1;
    return `conformance-${label}-${this.changeCount}`;
  }

  /** A stamp value never written before in this run. */
  nextStamp(): number {
    this.stampCount += 1;
    return Date.now() * 1000 + this.stampCount;
  }

  volumeClient(volume: TestVolume): NbdClient {
    return volume === this.layout.volumeA ? this.volumeA : this.volumeB;
  }

  /** Byte offset in volume A of extent `extentIndex`, block `blockIndex`. */
  offsetIn(extentIndex: number, blockIndex = 0): number {
    return extentIndex * this.layout.extentSizeBytes + blockIndex * blockBytes;
  }

  /** The stamp in one block of a storage area, read on the device itself, not through the apparatus. */
  async areaStamp(area: Area, blockIndex: number): Promise<number> {
    const block = Buffer.alloc(blockBytes);
    await (await this.luClient(area.luIndex)).read(area.areaIndex * this.layout.extentSizeBytes + blockIndex * blockBytes, block);
    return stampValue(block);
  }

  /** Writes a stamp straight into a storage area on the device. */
  async stampArea(area: Area, blockIndex: number, value: number): Promise<void> {
    await (await this.luClient(area.luIndex)).write(area.areaIndex * this.layout.extentSizeBytes + blockIndex * blockBytes, stamp(value));
  }

  /** Reads one block of a volume through the apparatus and returns its stamp. */
  async readStamp(client: NbdClient, offsetBytes: number): Promise<number> {
    const block = Buffer.alloc(blockBytes);
    await client.read(offsetBytes, block);
    return stampValue(block);
  }

  /** Between cases: the baseline table at a new generation, registered, with live host connections and a fast disk. */
  async reset(): Promise<void> {
    if (this.disk !== undefined) this.disk.writeDelayMs = 0;
    this.generation += generationStep;
    await this.controller.loadTable(baselineTable(this.layout, this.generation));
    const state = await this.controller.getState();
    if (state.status === "APPARATUS_STATUS_FENCED" || state.registration_key_sha256 !== registrationKeyDigest(this.controller.registrationKey)) await this.controller.register();
    await this.reconnectHosts();
  }

  /** New host connections for any that are over (an apparatus may drop them when fenced, say). */
  async reconnectHosts(): Promise<void> {
    if (!this.volumeA.isOver && !this.volumeB.isOver) return;
    await this.closeHosts();
    await this.connectHosts();
  }

  /** How hosts start TLS: when the apparatus's NBD offers it and the run has certificates. */
  get hostTls(): NbdClientTls | undefined {
    if (this.certificates === undefined || this.features.nbdTls === "off") return undefined;
    return this.certificates.nbdTls();
  }

  /** A new host connection to `volumeName`, over TLS when the run has it (or as `chosen` says: "plain", or those settings). */
  connectHost(volumeName: string, chosen: NbdClientTls | "plain" | undefined = this.hostTls): Promise<NbdClient> {
    const tls = chosen === "plain" ? undefined : chosen;
    return NbdClient.connect({ host: this.nbd.host, port: this.nbd.port, exportName: volumeName, timeoutMs: nbdTimeoutMs, ...(tls === undefined ? {} : { tls }) });
  }

  /** The long volume, or a CheckFailure saying the device had no room for it. */
  longVolume(): TestVolume {
    if (this.layout.volumeC === undefined) {
      throw new CheckFailure("the device had too few free storage areas for the suite's long volume (over 32 MiB): give it a device with more room");
    }
    return this.layout.volumeC;
  }

  /** The suite's own device's counters, or a SkipCase: against a tester's device the suite cannot see inside it. */
  ownDisk(what: string): SlowDisk {
    if (this.disk === undefined) throw new SkipCase(`${what} needs the suite's own device (--launch without --device)`);
    return this.disk;
  }

  /** Skips unless the run uses TLS: a case about certificates has nothing to check without them. */
  requireCertificates(): SuiteCertificates {
    if (this.certificates === undefined) throw new SkipCase("the run has no certificates (give --cert-dir, or {cert_dir} in --launch)");
    return this.certificates;
  }

  private async connectHosts(): Promise<void> {
    this.volumeA = await this.connectHost(this.layout.volumeA.name);
    this.volumeB = await this.connectHost(this.layout.volumeB.name);
  }

  private async closeHosts(): Promise<void> {
    await Promise.all([this.volumeA.close(), this.volumeB.close()]);
  }

  private async luClient(luIndex: number): Promise<NbdClient> {
    const existing = this.luClients.get(luIndex);
    if (existing !== undefined && !existing.isOver) return existing;
    const lu = this.layout.lus.find((candidate) => candidate.index === luIndex);
    if (lu === undefined) throw new CheckFailure(`no LU index ${luIndex} in the device's store`);
    // A plain LU name is an administrator's connection: the device does not check a registration for it.
    // With TLS the device's LUs require it, and an operator's certificate opens them (device serve --cert-dir).
    const tls = this.certificates?.nbdTls();
    const client = await NbdClient.connect({ host: this.deviceNbd.host, port: this.deviceNbd.port, exportName: lu.id, timeoutMs: nbdTimeoutMs, ...(tls === undefined ? {} : { tls }) });
    this.luClients.set(luIndex, client);
    return client;
  }

  async close(): Promise<void> {
    await this.closeHosts();
    await Promise.all(Array.from(this.luClients.values(), (client) => client.close()));
    this.controller.close();
  }
}
