/**
 * Fencing that holds without the controller's help (claim 3, DESIGN.md "an
 * apparatus that has lost its controller longer than its lease stops serving
 * by itself"). Once registered, the apparatus renews its registration with
 * the device every quarter lease. It may serve until the time it *sent* its
 * last granted renewal plus the lease, on its own clock: a reply that arrives
 * late cannot stretch the lease. The device refuses renewals once the
 * controller has fenced the apparatus, so a lease after the fence the
 * apparatus serves nothing, and the controller commits a change that left it
 * out only after that (change-executor.ts).
 */
import * as grpc from "@grpc/grpc-js";
import { callUnary, deadlineAfter, loadGrpc, type DeviceClient, type RenewRegistrationResponse__Output } from "@switchyard/proto";

/** The shortest and longest lease a controller may give: below 100 ms renewals would flood the device. */
export const leaseMinMs = 100;
export const leaseMaxMs = 60_000;
/** Renewals per lease: three may be lost before the lease runs out. */
const renewalsPerLease = 4;

export type ContactOutcome = "granted" | "fenced" | "unknown";

export class ContactLease {
  private device: DeviceClient | undefined;
  private deviceAddress = "";
  private timer: NodeJS.Timeout | undefined;
  private apparatusId = "";
  private key = "";
  private leaseMs = 0;
  /** Serving is allowed until this time (performance.now()); Infinity while never registered. */
  deadlineMs = Infinity;
  private readonly onFenced: (reason: string) => void;

  /** How renewals reach the device: mutual TLS with the apparatus's own certificate, or plain. */
  private readonly credentials: grpc.ChannelCredentials;

  constructor(onFenced: (reason: string) => void, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    this.onFenced = onFenced;
    this.credentials = credentials;
  }

  /** The key renewals present; "" until the first registration. */
  get registrationKey(): string {
    return this.key;
  }

  /** Starts (or restarts) renewing under `key`, granting one lease from now. */
  start(apparatusId: string, key: string, leaseMs: number, deviceAddress: string): void {
    this.stop();
    if (deviceAddress !== this.deviceAddress) {
      this.device?.close();
      this.device = new (loadGrpc().switchyard.v1.Device)(deviceAddress, this.credentials);
      this.deviceAddress = deviceAddress;
    }
    this.apparatusId = apparatusId;
    this.key = key;
    this.leaseMs = leaseMs;
    this.deadlineMs = performance.now() + leaseMs;
    this.timer = setInterval(() => {
      void this.renew();
    }, Math.floor(leaseMs / renewalsPerLease));
    this.timer.unref();
  }

  /** One renewal; exported for tests. Never rejects. */
  async renew(): Promise<ContactOutcome | undefined> {
    const device = this.device;
    if (device === undefined) return undefined;
    const sentAtMs = performance.now();
    try {
      const response = await callUnary<RenewRegistrationResponse__Output>((done) =>
        device.RenewRegistration(
          { apparatus_id: this.apparatusId, registration_key: this.key },
          { deadline: deadlineAfter(Math.floor(this.leaseMs / renewalsPerLease)) },
          done,
        ),
      );
      switch (response.status) {
        case "REGISTRATION_STATUS_GRANTED":
          this.deadlineMs = Math.max(this.deadlineMs, sentAtMs + this.leaseMs);
          return "granted";
        case "REGISTRATION_STATUS_FENCED":
          this.stop();
          this.onFenced("the controller fenced this apparatus");
          return "fenced";
        case "REGISTRATION_STATUS_UNKNOWN":
        case "REGISTRATION_STATUS_UNSPECIFIED":
          return "unknown";
      }
    } catch {
      // Not renewed: the lease runs out by itself if the device stays away.
      return undefined;
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.device?.close();
    this.device = undefined;
  }
}
