/** The console's view of the Controller service: one promise per call, each with a deadline. */
import * as grpc from "@grpc/grpc-js";
import {
  callUnary,
  controlChannelOptions,
  deadlineAfter,
  loadGrpc,
  type ApparatusActionResponse__Output,
  type ApparatusSummary__Output,
  type ChangeInfo__Output,
  type ClusterStatus__Output,
  type DeviceStatus__Output,
  type ControllerClient,
  type VolumeInfo__Output,
} from "@switchyard/proto";
import { callerCredentials } from "@switchyard/security";

/** A console call waits this long: volume creation may flush the store and reach every apparatus. */
export const consoleCallTimeoutMs = 15_000;

export class ConsoleClient {
  private readonly client: ControllerClient;
  private readonly callTimeoutMs: number;

  /**
   * `credentials`: an operator's or viewer's certificate for an appliance
   * with mutual TLS (controllerConnection in endpoints.ts finds it), plain
   * otherwise. `callTimeoutMs`: each call's deadline (a reader that polls
   * wants a shorter one than a command).
   */
  constructor(address: string, credentials: grpc.ChannelCredentials, callTimeoutMs: number = consoleCallTimeoutMs) {
    this.client = new (loadGrpc().switchyard.v1.Controller)(address, credentials, controlChannelOptions);
    this.callTimeoutMs = callTimeoutMs;
  }

  /** A client of an appliance without TLS (plain gRPC, as `up` without --tls serves). */
  static plain(address: string, callTimeoutMs: number = consoleCallTimeoutMs): ConsoleClient {
    return new ConsoleClient(address, grpc.credentials.createInsecure(), callTimeoutMs);
  }

  /** A client that presents the certificate in an identity folder (an operator's: `up` makes DIR/tls/operator-admin). */
  static withCertificate(address: string, folder: string, callTimeoutMs: number = consoleCallTimeoutMs): ConsoleClient {
    return new ConsoleClient(address, callerCredentials(folder), callTimeoutMs);
  }

  private options(): grpc.CallOptions {
    return { deadline: deadlineAfter(this.callTimeoutMs) };
  }

  clusterStatus(): Promise<ClusterStatus__Output> {
    return callUnary((done) => this.client.GetClusterStatus({}, this.options(), done));
  }

  createVolume(name: string, sizeBytes: number, lu: string): Promise<VolumeInfo__Output> {
    return callUnary((done) => this.client.CreateVolume({ name, size_bytes: sizeBytes, lu }, this.options(), done));
  }

  async deleteVolume(name: string): Promise<void> {
    await callUnary((done) => this.client.DeleteVolume({ name }, this.options(), done));
  }

  async listVolumes(): Promise<VolumeInfo__Output[]> {
    const response = await callUnary<{ volumes: VolumeInfo__Output[] }>((done) => this.client.ListVolumes({}, this.options(), done));
    return response.volumes;
  }

  getVolume(name: string): Promise<VolumeInfo__Output> {
    return callUnary((done) => this.client.GetVolume({ name }, this.options(), done));
  }

  submitMove(volume: string, extentIndex: number, toLu: string): Promise<ChangeInfo__Output> {
    return callUnary((done) => this.client.SubmitChange({ move: { volume, extent_index: extentIndex, to_lu: toLu } }, this.options(), done));
  }

  submitResize(volume: string, sizeBytes: number): Promise<ChangeInfo__Output> {
    return callUnary((done) => this.client.SubmitChange({ resize: { volume, size_bytes: sizeBytes } }, this.options(), done));
  }

  async listChanges(): Promise<ChangeInfo__Output[]> {
    const response = await callUnary<{ changes: ChangeInfo__Output[] }>((done) => this.client.ListChanges({}, this.options(), done));
    return response.changes;
  }

  getChange(id: string): Promise<ChangeInfo__Output> {
    return callUnary((done) => this.client.GetChange({ id }, this.options(), done));
  }

  submitMigrate(request: { volume: string; toLu: string; firstExtent: number; endExtent: number; rateBytesPerSecond: number }): Promise<ChangeInfo__Output> {
    const migrate = { volume: request.volume, to_lu: request.toLu, first_extent: request.firstExtent, end_extent: request.endExtent, rate_bytes_per_second: request.rateBytesPerSecond };
    return callUnary((done) => this.client.SubmitChange({ migrate }, this.options(), done));
  }

  cancelChange(id: string): Promise<ChangeInfo__Output> {
    return callUnary((done) => this.client.CancelChange({ id }, this.options(), done));
  }

  async fenceApparatus(apparatusId: string): Promise<ApparatusSummary__Output | null> {
    const response = await callUnary<ApparatusActionResponse__Output>((done) => this.client.FenceApparatus({ apparatus_id: apparatusId }, this.options(), done));
    return response.apparatus;
  }

  async rejoinApparatus(apparatusId: string): Promise<ApparatusSummary__Output | null> {
    const response = await callUnary<ApparatusActionResponse__Output>((done) => this.client.RejoinApparatus({ apparatus_id: apparatusId }, this.options(), done));
    return response.apparatus;
  }

  /** `device add-external`: the device as registered; `extentSizeBytes` 0 takes the cluster's. */
  async addExternalDevice(name: string, nbdUri: string, extentSizeBytes: number): Promise<DeviceStatus__Output | null> {
    const response = await callUnary<{ device: DeviceStatus__Output | null }>((done) =>
      this.client.AddExternalDevice({ name, nbd_uri: nbdUri, extent_size_bytes: extentSizeBytes }, this.options(), done),
    );
    return response.device;
  }

  /** `device remove-external`: the device as it was listed before its removal. */
  async removeExternalDevice(name: string): Promise<DeviceStatus__Output | null> {
    const response = await callUnary<{ device: DeviceStatus__Output | null }>((done) => this.client.RemoveExternalDevice({ name }, this.options(), done));
    return response.device;
  }

  /** The change now and at every update until it ends; no deadline, as a migration may take hours. */
  async *watchChange(id: string): AsyncGenerator<ChangeInfo__Output> {
    const stream = this.client.WatchChange({ id });
    for await (const info of stream as AsyncIterable<ChangeInfo__Output>) yield info;
  }

  close(): void {
    this.client.close();
  }
}
