// Goal: a follower ends a holder's term only after the holder's address
// refused holderGoneRefusalsMin probes in a row, for the term it watches,
// never its own address; and the TCP probe tells a refused port from a
// listening one. Method: the core driven by hand; the probe against a real
// listener on loopback and the same port once closed.
import net from "node:net";
import { describe, expect, it } from "vitest";
import { tcpHolderProbe } from "./holder-probe.js";
import { HolderWatchCore, holderGoneRefusalsMin } from "./holder-watch.js";

describe("HolderWatchCore", () => {
  it("ends the watched term after enough refusals in a row, and only once", () => {
    const core = new HolderWatchCore("127.0.0.1:1");
    core.follow("127.0.0.1:2", 7);
    expect(core.next()).toEqual({ kind: "probe", address: "127.0.0.1:2", epoch: 7 });
    for (let refusal = 1; refusal < holderGoneRefusalsMin; refusal += 1) expect(core.onProbe("127.0.0.1:2", 7, "refused")).toBeUndefined();
    // An answer in between starts the count again; so does a probe that proves nothing.
    expect(core.onProbe("127.0.0.1:2", 7, "answered")).toBeUndefined();
    for (let refusal = 1; refusal < holderGoneRefusalsMin; refusal += 1) expect(core.onProbe("127.0.0.1:2", 7, "refused")).toBeUndefined();
    expect(core.onProbe("127.0.0.1:2", 7, "unknown")).toBeUndefined();
    for (let refusal = 1; refusal < holderGoneRefusalsMin; refusal += 1) expect(core.onProbe("127.0.0.1:2", 7, "refused")).toBeUndefined();
    expect(core.onProbe("127.0.0.1:2", 7, "refused")).toEqual({ kind: "end-term", address: "127.0.0.1:2", epoch: 7 });
    expect(core.next()).toBeUndefined();
    expect(core.onProbe("127.0.0.1:2", 7, "refused")).toBeUndefined();
  });

  it("ignores probes of another term, its own address, and stops when told", () => {
    const core = new HolderWatchCore("127.0.0.1:1");
    core.follow("127.0.0.1:1", 3);
    expect(core.next()).toBeUndefined();
    core.follow("127.0.0.1:2", 3);
    core.follow("127.0.0.1:2", 4);
    for (let refusal = 0; refusal < holderGoneRefusalsMin; refusal += 1) expect(core.onProbe("127.0.0.1:2", 3, "refused")).toBeUndefined();
    core.stop();
    expect(core.next()).toBeUndefined();
    expect(core.onProbe("127.0.0.1:2", 4, "refused")).toBeUndefined();
  });
});

describe("tcpHolderProbe", () => {
  it("answers 'answered' for a listener, 'refused' once it is gone, 'unknown' for an address it cannot parse", async () => {
    const server = net.createServer((socket) => socket.destroy());
    const port = await new Promise<number>((resolve) => {
      server.listen(0, "127.0.0.1", () => { resolve((server.address() as net.AddressInfo).port); });
    });
    expect(await tcpHolderProbe(`127.0.0.1:${port}`)).toBe("answered");
    expect(await tcpHolderProbe(`localhost:${port}`)).toBe("answered");
    await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
    expect(await tcpHolderProbe(`127.0.0.1:${port}`)).toBe("refused");
    expect(await tcpHolderProbe(`localhost:${port}`)).toBe("refused");
    expect(await tcpHolderProbe("no port here")).toBe("unknown");
  });
});
