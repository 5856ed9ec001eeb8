/**
 * Fencing that holds without the controller's help (claim 3, DESIGN.md "an
 * apparatus that has lost its controller longer than its lease stops serving
 * by itself"). Once registered, the apparatus renews its registration every
 * quarter lease through a renewal port: the device over gRPC
 * (Device.RenewRegistration, the default), or the coordination itself (with
 * etcd, issue 18 item 3: then no device is on the apparatus's liveness
 * path, and losing a device stops only I/O to its LUs). It may serve until
 * the time it *sent* its last granted renewal plus the lease, on its own
 * clock: a reply that arrives late cannot stretch the lease, and one that
 * comes after the renewal's timeout is not heard at all. The coordinator
 * refuses renewals once the controller has fenced the apparatus, so a lease
 * after the fence the apparatus serves nothing, and the controller commits
 * a change that left it out only after that (change-executor.ts).
 */
import * as grpc from "@grpc/grpc-js";
import { callUnary, deadlineAfter, loadGrpc, type DeviceClient, type RenewRegistrationResponse__Output } from "@switchyard/proto";

/** The shortest and longest lease a controller may give: below 100 ms renewals would flood the coordinator. */
export const leaseMinMs = 100;
export const leaseMaxMs = 60_000;
/** Renewals per lease: three may be lost before the lease runs out. */
const renewalsPerLease = 4;

export type ContactOutcome = "granted" | "fenced" | "unknown";

/**
 * Where an apparatus renews its registration. `renew` resolves with the
 * coordinator's answer and rejects when none came; it should give up after
 * `timeoutMs`, and the lease stops listening then whether it does or not.
 */
export interface ContactRenewalPort {
  renew(apparatusId: string, registrationKey: string, timeoutMs: number): Promise<ContactOutcome>;
  close(): void;
}

/**
 * Today's renewal: Device.RenewRegistration on the device at `deviceAddress`,
 * with the apparatus's credentials; `clientOptions` carry a relay link's
 * interceptor when the device serves in this process (RelayLink in proto).
 */
export function deviceContactRenewal(deviceAddress: string, credentials: grpc.ChannelCredentials, clientOptions: grpc.ClientOptions = {}): ContactRenewalPort {
  const device: DeviceClient = new (loadGrpc().switchyard.v1.Device)(deviceAddress, credentials, clientOptions);
  return {
    renew: async (apparatusId, registrationKey, timeoutMs) => {
      const response = await callUnary<RenewRegistrationResponse__Output>((done) =>
        device.RenewRegistration({ apparatus_id: apparatusId, registration_key: registrationKey }, { deadline: deadlineAfter(timeoutMs) }, done),
      );
      switch (response.status) {
        case "REGISTRATION_STATUS_GRANTED":
          return "granted";
        case "REGISTRATION_STATUS_FENCED":
          return "fenced";
        case "REGISTRATION_STATUS_UNKNOWN":
        case "REGISTRATION_STATUS_UNSPECIFIED":
          return "unknown";
      }
    },
    close: () => {
      device.close();
    },
  };
}

export interface ContactLeaseOptions {
  /** How renewals reach the device (default port): mutual TLS with the apparatus's own certificate, or plain. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Renew here instead of with the device each registration names (etcd: the coordination itself). */
  readonly renewal?: ContactRenewalPort;
  /** The gRPC client options for the device at an address: a relay link's for the device in this process (apparatus.ts). */
  readonly deviceClientOptions?: (deviceAddress: string) => grpc.ClientOptions;
  /** The clock deadlines are on; performance.now() unless a test passes another (io-path.ts compares with performance.now()). */
  readonly now?: () => number;
}

export class ContactLease {
  /** The device's port and its address, when renewals go to the device a registration names. */
  private device: { readonly address: string; readonly port: ContactRenewalPort } | undefined;
  private readonly fixedPort: ContactRenewalPort | undefined;
  private timer: NodeJS.Timeout | undefined;
  private apparatusId = "";
  private key = "";
  private leaseMs = 0;
  /** Serving is allowed until this time (on `now`); Infinity while never registered. */
  deadlineMs = Infinity;
  private readonly onFenced: (reason: string) => void;
  private readonly credentials: grpc.ChannelCredentials;
  private readonly deviceClientOptions: (deviceAddress: string) => grpc.ClientOptions;
  private readonly now: () => number;

  constructor(onFenced: (reason: string) => void, options: ContactLeaseOptions = {}) {
    this.onFenced = onFenced;
    this.credentials = options.credentials ?? grpc.credentials.createInsecure();
    this.fixedPort = options.renewal;
    this.deviceClientOptions = options.deviceClientOptions ?? (() => ({}));
    this.now = options.now ?? (() => performance.now());
  }

  /** The key renewals present; "" until the first registration. */
  get registrationKey(): string {
    return this.key;
  }

  /** Starts (or restarts) renewing under `key`, granting one lease from now. */
  start(apparatusId: string, key: string, leaseMs: number, deviceAddress: string): void {
    this.stop();
    if (this.fixedPort === undefined && deviceAddress !== this.device?.address) {
      this.device?.port.close();
      this.device = { address: deviceAddress, port: deviceContactRenewal(deviceAddress, this.credentials, this.deviceClientOptions(deviceAddress)) };
    }
    this.apparatusId = apparatusId;
    this.key = key;
    this.leaseMs = leaseMs;
    this.deadlineMs = this.now() + leaseMs;
    this.timer = setInterval(() => {
      void this.renew();
    }, this.renewalIntervalMs());
    this.timer.unref();
  }

  /** One renewal; exported for tests. Never rejects: undefined when no answer came in time. */
  async renew(): Promise<ContactOutcome | undefined> {
    const port = this.fixedPort ?? this.device?.port;
    if (port === undefined || this.key === "") return undefined;
    const key = this.key;
    const sentAtMs = this.now();
    const timeoutMs = this.renewalIntervalMs();
    let outcome: ContactOutcome | undefined;
    try {
      outcome = await answerWithin(port.renew(this.apparatusId, key, timeoutMs), timeoutMs);
    } catch {
      // Not renewed: the lease runs out by itself if the coordinator stays away.
      return undefined;
    }
    // An answer about a key this apparatus no longer presents (registered again meanwhile) says nothing of the new one.
    if (outcome === undefined || key !== this.key) return undefined;
    switch (outcome) {
      case "granted":
        this.deadlineMs = Math.max(this.deadlineMs, sentAtMs + this.leaseMs);
        return "granted";
      case "fenced":
        this.stop();
        this.onFenced("the controller fenced this apparatus");
        return "fenced";
      case "unknown":
        return "unknown";
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.device?.port.close();
    this.device = undefined;
    this.fixedPort?.close();
  }

  /** A renewal is sent, and given up on, every quarter lease: three may be lost before the lease runs out. */
  private renewalIntervalMs(): number {
    return Math.floor(this.leaseMs / renewalsPerLease);
  }
}

/** `answer`, or undefined once `timeoutMs` has passed without it (the port's late answer is dropped). */
function answerWithin(answer: Promise<ContactOutcome>, timeoutMs: number): Promise<ContactOutcome | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => { resolve(undefined); }, timeoutMs);
    timer.unref();
  });
  return Promise.race([answer, silence]).finally(() => {
    clearTimeout(timer);
  });
}
