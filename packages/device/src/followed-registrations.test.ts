// Goal: a device that follows a coordination's registrations (issue 18 item
// 3) checks I/O against them with no apparatus renewing through it: a
// registration lets I/O through, a fence refuses it, a complete update
// forgets what the coordination no longer holds, and each update is saved
// to registrations.json. A renewal through the device still answers with
// the coordination's word but no longer records it (a stale "granted" must
// not undo a fence the watch applied). Method: DeviceRegistrations in
// memory for the update rules; a real StorageDevice in a temporary folder
// with a fake coordination whose watch the test drives by hand.
import { afterEach, describe, expect, it } from "vitest";
import { DeviceRegistrations } from "./device-registrations.js";
import type { FollowedCoordination } from "./followed-coordination.js";
import { applyFollowedUpdate, type FollowedRegistrationListener, type FollowedRegistrationUpdate } from "./followed-registrations.js";
import { StorageDevice } from "./storage-device.js";
import { temporaryFolder, testDeviceCreateOptions, type TemporaryFolder } from "./testing.js";

function update(revision: number, complete: boolean, states: FollowedRegistrationUpdate["states"]): FollowedRegistrationUpdate {
  return { revision, complete, states };
}

describe("applyFollowedUpdate", () => {
  it("forgets, on a complete update, every apparatus the coordination no longer names", () => {
    const registrations = new DeviceRegistrations({ keys: new Map([["a1", "k1"], ["a2", "k2"]]), fenced: new Set(["a3"]) });
    expect(applyFollowedUpdate(registrations, update(10, true, new Map([["a2", { kind: "registered", registrationKey: "k2" }]])))).toEqual([]);
    expect(registrations.known()).toEqual(new Set(["a2"]));
    expect(registrations.ioRefusal("a1", "k1")).toMatch(/no registration/);
  });

  it("keeps what a partial update does not name", () => {
    const registrations = new DeviceRegistrations({ keys: new Map([["a1", "k1"]]), fenced: new Set() });
    applyFollowedUpdate(registrations, update(11, false, new Map([["a2", { kind: "fenced" }]])));
    expect(registrations.ioRefusal("a1", "k1")).toBeUndefined();
    expect(registrations.ioRefusal("a2", "any")).toMatch(/fenced/);
  });

  it("moves a key one apparatus gave up to another at the same revision, whatever the order named", () => {
    const registrations = new DeviceRegistrations({ keys: new Map([["a1", "k1"]]), fenced: new Set() });
    const refusals = applyFollowedUpdate(registrations, update(12, false, new Map([
      ["a2", { kind: "registered", registrationKey: "k1" }],
      ["a1", { kind: "unknown" }],
    ])));
    expect(refusals).toEqual([]);
    expect(registrations.ioRefusal("a2", "k1")).toBeUndefined();
  });

  it("says which state it could not take (a key another apparatus holds) and applies the rest", () => {
    const registrations = new DeviceRegistrations({ keys: new Map([["a1", "k1"]]), fenced: new Set() });
    const refusals = applyFollowedUpdate(registrations, update(13, false, new Map([
      ["a2", { kind: "registered", registrationKey: "k1" }],
      ["a3", { kind: "fenced" }],
    ])));
    expect(refusals).toEqual([expect.stringMatching(/apparatus a2 at revision 13 not followed: .*already registered by apparatus a1/)]);
    expect(registrations.ioRefusal("a3", "x")).toMatch(/fenced/);
  });
});

/** A coordination whose registration watch the test drives, and whose renewal answer it sets. */
class DrivenCoordination implements FollowedCoordination {
  listener: FollowedRegistrationListener | undefined;
  stopped = false;
  renewalAnswer: "granted" | "fenced" | "unknown" = "granted";
  readStore(): Promise<never> {
    return Promise.reject(new Error("not used here"));
  }
  registrationStatus(): Promise<"granted" | "fenced" | "unknown"> {
    return Promise.resolve(this.renewalAnswer);
  }
  leaseHolder(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  watchRegistrations(listener: FollowedRegistrationListener): () => void {
    this.listener = listener;
    return () => {
      this.stopped = true;
    };
  }
  send(next: FollowedRegistrationUpdate): void {
    if (this.listener === undefined) throw new Error("the device did not watch");
    this.listener(next);
  }
}

describe("a storage device following registrations", () => {
  let folder: TemporaryFolder | undefined;
  let device: StorageDevice | undefined;
  afterEach(async () => {
    await device?.close();
    device = undefined;
    await folder?.remove();
  });

  it("serves a registered apparatus, refuses it once fenced, keeps the fence across a renewal and a restart", async () => {
    folder = await temporaryFolder();
    const coordination = new DrivenCoordination();
    device = await StorageDevice.open({ dir: folder.path, create: testDeviceCreateOptions, coordination });
    coordination.send(update(5, true, new Map([["a1", { kind: "registered", registrationKey: "k1" }]])));
    expect(device.ioRefusal("a1", "k1")).toBeUndefined();

    coordination.send(update(6, false, new Map([["a1", { kind: "fenced" }]])));
    expect(device.ioRefusal("a1", "k1")).toMatch(/fenced/);
    // An answer read before the fence, arriving after it: passed on, not recorded.
    expect(await device.renewRegistration("a1", "k1")).toBe("granted");
    expect(device.ioRefusal("a1", "k1")).toMatch(/fenced/);

    await device.saveRegistrations();
    await device.close();
    expect(coordination.stopped).toBe(true);
    device = await StorageDevice.open({ dir: folder.path });
    expect(device.ioRefusal("a1", "k1")).toMatch(/fenced/);
  });

  it("still records renewals with a coordination that cannot be watched", async () => {
    folder = await temporaryFolder();
    const coordination = new DrivenCoordination();
    const unwatched: FollowedCoordination = {
      readStore: () => coordination.readStore(),
      registrationStatus: () => coordination.registrationStatus(),
      leaseHolder: () => coordination.leaseHolder(),
    };
    device = await StorageDevice.open({ dir: folder.path, create: testDeviceCreateOptions, coordination: unwatched });
    expect(await device.renewRegistration("a1", "k1")).toBe("granted");
    expect(device.ioRefusal("a1", "k1")).toBeUndefined();
  });
});
