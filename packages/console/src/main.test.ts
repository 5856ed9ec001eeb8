// Goal: every command documents itself (usage and an example under --help),
// and usage mistakes exit 2 with one line. Method: run main() in-process with
// captured output; no appliance is needed for these paths.
import { createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { commands, exitUsage, main } from "./main.js";
import { captureIo as capture } from "./testing.js";


describe("switchyard", () => {
  it.each(commands.map((command) => command.words.join(" ")))("%s --help shows usage and an example", async (words) => {
    const { io, out } = capture();
    expect(await main([...words.split(" "), "--help"], io)).toBe(0);
    expect(out()).toMatch(/^Usage: switchyard /);
    expect(out()).toMatch(/Example:\n {2}switchyard /);
  });

  it.each([
    [["frobnicate"], /unknown command/],
    [["volume", "move", "v", "--to", "lu1", "--endpoint", "127.0.0.1:1"], /--extent is required/],
    [["volume", "resize", "v", "--size", "12XB", "--endpoint", "127.0.0.1:1"], /is not a size/],
    [["volume", "create", "v", "--size", "-1MiB", "--endpoint", "127.0.0.1:1"], /size/],
    [["change", "show", "--endpoint", "nowhere"], /missing change ID/],
    [["up", "--processors", "3"], /--processors must be 1 or 2, not 3/],
    [["up", "--http-port", "80800"], /--http-port "80800" is not a port/],
    [["up", "--etcd", "127.0.0.1:2379"], /--etcd takes client URLs like http:\/\/127.0.0.1:2379, not "127.0.0.1:2379"/],
    [["up", "--etcd", "http://127.0.0.1:2379,"], /--etcd takes client URLs/],
    [["device", "serve", "--etcd", "localhost:2379"], /--etcd takes client URLs like http:\/\/127.0.0.1:2379, not "localhost:2379"/],
    [["apparatus", "serve", "--id", "a1", "--etcd", "http://127.0.0.1"], /--etcd takes client URLs/],
    [["apparatus", "serve", "--id", "a1"], /--device HOST:PORT is required \(or --etcd URLS/],
    [["apparatus", "serve", "--id", "a 1", "--device", "127.0.0.1:1"], /--id "a 1": an id is 1 to 64 letters/],
    [["device", "serve", "--id=.dev"], /--id ".dev": an id is 1 to 64 letters/],
    [["apparatus", "serve", "--id", "a1", "--etcd", "http://127.0.0.1:2379", "--device", "nowhere"], /--device "nowhere" is not HOST:PORT/],
    [["apparatus", "serve", "--id", "a1", "--device", "127.0.0.1:1", "--http-port", "web"], /--http-port "web" is not a port/],
    [["apparatus", "serve", "--id", "a1", "--device", "127.0.0.1:1", "--processors", "two"], /--processors must be 1 or 2/],
    // Plain gRPC stays on loopback (plain-control.ts): each refused before anything listens.
    [["up", "--host", "0.0.0.0", "--insecure"], /--insecure is for this machine only: it is refused with 0\.0\.0\.0/],
    [["up", "--control-host", "192.0.2.1", "--insecure"], /--insecure is for this machine only: it is refused with 192\.0\.2\.1/],
    [["up", "--tls", "--insecure"], /--insecure and --tls contradict each other/],
    [["device", "serve", "--host", "10.0.0.1"], /gRPC on 10\.0\.0\.1 reaches other machines: serve it with --cert-dir/],
    [["apparatus", "serve", "--id", "a1", "--device", "127.0.0.1:1", "--host", "::"], /gRPC on :: reaches other machines/],
    // An address others can dial (publish-host.ts): a wildcard listen host needs --publish-host.
    [["device", "serve", "--host", "0.0.0.0", "--cert-dir", "/nonexistent"], /--host 0\.0\.0\.0 listens on every address.*--publish-host/],
    [["apparatus", "serve", "--id", "a1", "--device", "127.0.0.1:1", "--publish-host", "a:1"], /--publish-host "a:1" is not a host others can dial/],
  ])("%j exits 2 with one line", async (argv, message) => {
    const { io, err } = capture();
    expect(await main(argv, io)).toBe(exitUsage);
    expect(err()).toMatch(message);
    expect(err().trimEnd().split("\n")).toHaveLength(1);
  });

  it.each([
    [["up", "--processors", "3"], "switchyard up: --processors must be 1 or 2, not 3"],
    // CI met it: device serve probed its default ports first, and another test held 50051.
    [["device", "serve", "--id=.dev"], `switchyard device serve: --id ".dev": an id is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`],
  ])("%j checks every option before it probes a port: a bad one is the only line, even with the port taken", async (argv, line) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const { io, err } = capture();
      expect(await main([...argv, "--grpc-port", String(port)], io)).toBe(exitUsage);
      expect(err().trimEnd().split("\n")).toEqual([line]);
    } finally {
      taken.close();
    }
  });
});
