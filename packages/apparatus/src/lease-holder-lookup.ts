/**
 * How an apparatus learns who holds an epoch (issue 17): it asks the device
 * it was started with (GetLeaseHolder), or, on etcd, etcd itself (the
 * console's serve-etcd.ts, issue 18), never one a caller names, so a peer
 * apparatus cannot point it at a device of its own choosing. The answer is
 * checked by LeaseHolderCheck (@switchyard/security) against each caller's
 * certificate before the Apparatus handlers run.
 */
import type * as grpc from "@grpc/grpc-js";
import { callUnary, deadlineAfter, loadGrpc, type DeviceClient, type LeaseHolder__Output } from "@switchyard/proto";
import type { EpochHolder, EpochHolderLookup } from "@switchyard/security";

/**
 * A lookup is one loopback or LAN round trip; it runs once per new epoch,
 * inside the first call of a new controller, so it must end well within
 * the controller's phase timeout (2 s).
 */
export const leaseHolderLookupTimeoutMs = 1_000;

/** Where an apparatus asks who holds an epoch: its device, or the coordination itself (etcd). */
export interface LeaseHolderSource {
  readonly lookup: EpochHolderLookup;
  close(): void;
}

/** Lookups at the Device service at `deviceAddress`; without one, every lookup says so (an apparatus with TLS needs its device). */
export function deviceLeaseHolders(deviceAddress: string | undefined, credentials: grpc.ChannelCredentials, clientOptions: grpc.ClientOptions = {}): LeaseHolderSource {
  if (deviceAddress === undefined) {
    return {
      lookup: () => Promise.reject(new Error("this apparatus was started without its device's address, so it cannot tell who holds an epoch")),
      close: () => undefined,
    };
  }
  let client: DeviceClient | undefined;
  return {
    lookup: async (): Promise<EpochHolder | undefined> => {
      client ??= new (loadGrpc().switchyard.v1.Device)(deviceAddress, credentials, clientOptions);
      const device = client;
      const answer = await callUnary<LeaseHolder__Output>((done) =>
        device.GetLeaseHolder({}, { deadline: deadlineAfter(leaseHolderLookupTimeoutMs) }, done));
      return answer.epoch === 0 ? undefined : { holderId: answer.holder_id, epoch: answer.epoch };
    },
    close: () => {
      client?.close();
    },
  };
}
