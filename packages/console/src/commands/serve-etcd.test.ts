// Goal: an apparatus's two etcd ports share one follower client
// (etcdApparatusPorts): renewals ask registrationStatus and lookups ask
// leaseHolder of it, and the client is closed once, when both ports are
// closed, however often each is.
// Method: a recording client in place of etcd; the etcd interop tests
// (tools/interop etcd-serve) run the real one.
import type { FollowedClient, RegistrationStatus, StoreRead, TermHolder } from "@switchyard/coordination";
import { describe, expect, it } from "vitest";
import { etcdApparatusPorts } from "./serve-etcd.js";

class RecordingClient implements FollowedClient {
  readonly calls: string[] = [];
  closes = 0;

  readStore(): Promise<StoreRead> {
    return Promise.reject(new Error("an apparatus's ports never read the store"));
  }

  registrationStatus(apparatusId: string, registrationKey: string): Promise<RegistrationStatus> {
    this.calls.push(`registrationStatus ${apparatusId} ${registrationKey}`);
    return Promise.resolve("granted");
  }

  leaseHolder(): Promise<TermHolder | undefined> {
    this.calls.push("leaseHolder");
    return Promise.resolve({ holderId: "a0", epoch: 7 });
  }

  close(): Promise<void> {
    this.closes += 1;
    return Promise.resolve();
  }
}

describe("etcdApparatusPorts", () => {
  it("renews and looks up through the one client", async () => {
    const client = new RecordingClient();
    const ports = etcdApparatusPorts(client);
    expect(await ports.contactRenewal.renew("a1", "k1", 1_000)).toBe("granted");
    expect(await ports.leaseHolders.lookup()).toEqual({ holderId: "a0", epoch: 7 });
    expect(client.calls).toEqual(["registrationStatus a1 k1", "leaseHolder"]);
  });

  it("closes the client once, when both ports are closed", () => {
    const client = new RecordingClient();
    const ports = etcdApparatusPorts(client);
    ports.contactRenewal.close();
    ports.contactRenewal.close();
    expect(client.closes).toBe(0);
    ports.leaseHolders.close();
    ports.leaseHolders.close();
    expect(client.closes).toBe(1);
  });
});
