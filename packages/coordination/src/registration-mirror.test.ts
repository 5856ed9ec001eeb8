// Goal: the mirror a device follows says of each apparatus what
// registrationStatus would say at the same revision (fenced over
// registered over unknown), and names only the apparatuses a revision
// touched, except after a fresh read, which names every one known before
// or after (so the device also forgets what vanished while it was not
// watching). Method: feed it reads and watch events by hand.
import { describe, expect, it } from "vitest";
import { RegistrationMirror, type RegistrationEvent } from "./registration-mirror.js";

function put(family: RegistrationEvent["family"], apparatusId: string, value = ""): RegistrationEvent {
  return { family, apparatusId, change: "put", value };
}
function remove(family: RegistrationEvent["family"], apparatusId: string): RegistrationEvent {
  return { family, apparatusId, change: "delete", value: "" };
}

describe("registration mirror", () => {
  it("reads a registration, then a fence (both keys at one revision), then a registration again", () => {
    const mirror = new RegistrationMirror();
    expect(mirror.apply(5, [put("registration", "a1", "k1")]).states).toEqual(new Map([["a1", { kind: "registered", registrationKey: "k1" }]]));
    const fenced = mirror.apply(6, [put("fenced", "a1"), remove("registration", "a1")]);
    expect(fenced).toEqual({ revision: 6, complete: false, states: new Map([["a1", { kind: "fenced" }]]) });
    expect(mirror.apply(7, [put("registration", "a1", "k2"), remove("fenced", "a1")]).states.get("a1")).toEqual({ kind: "registered", registrationKey: "k2" });
  });

  it("shows a fenced apparatus fenced even while a registration key of it is still there", () => {
    const mirror = new RegistrationMirror();
    mirror.apply(3, [put("registration", "a1", "k1"), put("fenced", "a1")]);
    expect(mirror.stateOf("a1")).toEqual({ kind: "fenced" });
  });

  it("names only what a revision touched", () => {
    const mirror = new RegistrationMirror();
    mirror.apply(3, [put("registration", "a1", "k1"), put("registration", "a2", "k2")]);
    expect([...mirror.apply(4, [remove("registration", "a2")]).states]).toEqual([["a2", { kind: "unknown" }]]);
  });

  it("after a fresh read names what vanished too", () => {
    const mirror = new RegistrationMirror();
    mirror.apply(3, [put("registration", "a1", "k1"), put("fenced", "a2")]);
    const update = mirror.reset(new Map([["a3", "k3"]]), new Set(), 90);
    expect(update).toEqual({
      revision: 90,
      complete: true,
      states: new Map([["a1", { kind: "unknown" }], ["a2", { kind: "unknown" }], ["a3", { kind: "registered", registrationKey: "k3" }]]),
    });
  });

  it("refuses to go back in revisions (a broken watch is a crash, not a state)", () => {
    const mirror = new RegistrationMirror();
    mirror.apply(8, []);
    expect(() => mirror.apply(7, [])).toThrow(/went back/);
    expect(() => mirror.reset(new Map(), new Set(), 7)).toThrow(/older/);
  });
});
