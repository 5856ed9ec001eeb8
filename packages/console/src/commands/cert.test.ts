// Goal: `switchyard cert` makes a CA, node and client certificates that
// openssl accepts, lists them with role, id and expiry, refuses bad input
// with exit 2 and one line, and `up`'s plan makes only what is missing.
// Method: run main() in-process against a temporary folder, with the real
// openssl; check the files with openssl and their modes with stat.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appliancePlan, applianceClientFolder, certificateFolderOf, ensureApplianceCertificates } from "../appliance-certificates.js";
import { exitFailed, exitUsage, main } from "../main.js";
import { captureIo } from "../testing.js";

let root = "";
let dir = "";

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "switchyard-cert-cli-"));
  dir = join(root, "certs");
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const captured = captureIo();
  const code = await main(argv, captured.io);
  return { code, out: captured.out(), err: captured.err() };
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe("switchyard cert", () => {
  it("ca makes the CA once; a second time fails with one line", async () => {
    const made = await run("cert", "ca", "--dir", dir);
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/^made the cluster CA in .*certs .*valid until \d{4}-/);
    expect(await modeOf(join(dir, "ca-key.pem"))).toBe(0o600);
    const again = await run("cert", "ca", "--dir", dir);
    expect(again.code).toBe(exitFailed);
    expect(again.err).toMatch(/^switchyard cert ca: .*ca-cert.pem exists already/);
    expect(again.err.trimEnd().split("\n")).toHaveLength(1);
  });

  it("node makes a certificate for every --host, verified by openssl", async () => {
    const made = await run("cert", "node", "--role", "apparatus", "--id", "a2", "--host", "10.0.0.12", "--host", "node12.example", "--dir", dir, "--json");
    expect(made.code).toBe(0);
    const data = JSON.parse(made.out) as { role: string; id: string; hosts: string[]; subject: string };
    expect(data).toMatchObject({ role: "apparatus", id: "a2", subject: "O=switchyard, OU=apparatus, CN=a2", hosts: ["IP Address:10.0.0.12", "DNS:node12.example"] });
    const verified = execFileSync("openssl", ["verify", "-CAfile", join(dir, "ca-cert.pem"), join(dir, "apparatus-a2", "server-cert.pem")], { encoding: "utf8" });
    expect(verified).toMatch(/: OK/);
    expect(await modeOf(join(dir, "apparatus-a2", "server-key.pem"))).toBe(0o600);
  });

  it("client makes a GnuTLS client folder", async () => {
    const made = await run("cert", "client", "--role", "viewer", "--name", "grafana", "--dir", dir);
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/^made viewer grafana's client certificate in .*viewer-grafana/);
    expect(await modeOf(join(dir, "viewer-grafana"))).toBe(0o700);
    expect(await modeOf(join(dir, "viewer-grafana", "client-key.pem"))).toBe(0o600);
  });

  it("list shows subject, role, id and expiry, the CA first", async () => {
    const listed = await run("cert", "list", "--dir", dir);
    expect(listed.code).toBe(0);
    const lines = listed.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SUBJECT +ROLE +ID +EXPIRES$/);
    expect(lines[1]).toMatch(/^O=switchyard, OU=ca, CN=switchyard-ca +ca +- +\d{4}-\d\d-\d\d \(in 36\d\d days\)$/);
    expect(lines[2]).toMatch(/^O=switchyard, OU=apparatus, CN=a2 +apparatus +a2 +\d{4}-\d\d-\d\d \(in 18\d\d days\)$/);
    expect(lines[3]).toMatch(/ viewer +grafana /);
    const json = JSON.parse((await run("cert", "list", "--dir", dir, "-o", "json")).out) as { role: string }[];
    expect(json.map((entry) => entry.role)).toEqual(["ca", "apparatus", "viewer"]);
  });

  it.each([
    [["cert", "node", "--role", "controller", "--id", "c1", "--host", "127.0.0.1"], /--role must be device or apparatus, not "controller"/],
    [["cert", "node", "--role", "device", "--id", "d/1", "--host", "127.0.0.1"], /id "d\/1" must be 1 to 64 letters/],
    [["cert", "node", "--role", "device", "--id", "d1"], /--host is required/],
    [["cert", "node", "--role", "device", "--id", "d1", "--host", "not a host"], /neither an IP address nor a DNS name/],
    [["cert", "client", "--role", "admin", "--name", "x"], /--role must be operator or viewer/],
    [["cert", "client", "--role", "viewer"], /--name is required/],
    [["cert", "list", "--output", "xml"], /--output must be/],
  ])("%j exits 2 with one line", async (argv, message) => {
    const result = await run(...argv, "--dir", dir);
    expect(result.code).toBe(exitUsage);
    expect(result.err).toMatch(message);
    expect(result.err.trimEnd().split("\n")).toHaveLength(1);
  });

  it("list of a folder without a CA exits 2 saying how to make one", async () => {
    const result = await run("cert", "list", "--dir", join(root, "empty"));
    expect(result.code).toBe(exitUsage);
    expect(result.err).toMatch(/holds no CA \(ca-cert.pem\); make one with 'switchyard cert ca/);
  });
});

describe("the certificates of switchyard up", () => {
  it("are the device, each apparatus and an operator, for the listen address and loopback", () => {
    const plan = appliancePlan("10.1.2.3", 2);
    expect(plan.nodes.map((node) => `${node.role}-${node.id}`)).toEqual(["device-dev0", "apparatus-a0", "apparatus-a1"]);
    expect(plan.nodes[0]?.hosts).toEqual(["10.1.2.3", "127.0.0.1", "localhost"]);
    expect(appliancePlan("0.0.0.0", 1).nodes[0]?.hosts).toEqual(["127.0.0.1", "localhost"]);
    expect(plan.clients).toEqual([{ role: "operator", id: "admin" }]);
    // Hosts' NBD clients check the data address against the apparatus's certificate.
    const split = appliancePlan("127.0.0.1", 1, "192.0.2.10");
    expect(split.nodes[1]?.hosts).toEqual(["192.0.2.10", "127.0.0.1", "localhost"]);
    expect(split.nodes[0]?.hosts).toEqual(["127.0.0.1", "localhost"]);
  });

  it("are made on the first start, only the missing ones later, and found by cert list --dir DATA", async () => {
    const data = join(root, "data");
    expect(await ensureApplianceCertificates(data, "127.0.0.1", 1)).toHaveLength(4);
    expect(await ensureApplianceCertificates(data, "127.0.0.1", 1)).toEqual([]);
    expect(await ensureApplianceCertificates(data, "127.0.0.1", 2)).toEqual([join(certificateFolderOf(data), "apparatus-a1")]);
    expect(await modeOf(join(applianceClientFolder(data), "client-key.pem"))).toBe(0o600);
    const listed = await run("cert", "list", "--dir", data, "--json");
    expect((JSON.parse(listed.out) as { id: string | null }[]).map((entry) => entry.id)).toEqual([null, "a0", "a1", "dev0", "admin"]);
  });
});
