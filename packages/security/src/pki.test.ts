// Goal: the CA and certificates are real X.509 v3 made by openssl, carry
// the identity in the subject and the hosts in subjectAltName, keep keys
// owner-only, and read back with the right role, id and expiry.
// Method: make a cluster folder in a temporary directory, then check it with
// openssl itself (verify, -text) and with Node's X509Certificate.
import { execFileSync } from "node:child_process";
import { lstat, mkdtemp, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listCertificates, readCertificate } from "./certificate-info.js";
import { isSecurityError } from "./errors.js";
import { caCertificateFile, caKeyFile, clientCertificateFile, clientKeyFile, serverCertificateFile, serverKeyFile } from "./layout.js";
import { caLifetimeDays, createCa, ensureCertificates, issueClientCertificate, issueNodeCertificate, leafLifetimeDays, modeOf } from "./pki.js";

const dayMs = 24 * 60 * 60 * 1000;
let root = "";
let dir = "";

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "switchyard-pki-test-"));
  dir = join(root, "certs");
  await createCa(dir);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function openssl(...args: string[]): string {
  return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("the cluster CA", () => {
  it("is a self-signed v3 CA with an owner-only key and folder", async () => {
    const text = openssl("x509", "-in", join(dir, caCertificateFile), "-noout", "-text");
    expect(text).toMatch(/Version: 3 \(0x2\)/);
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(await modeOf(join(dir, caKeyFile))).toBe(0o600);
    expect(await modeOf(dir)).toBe(0o700);
    const info = await readCertificate(join(dir, caCertificateFile));
    expect(info.isCa).toBe(true);
    expect(info.identity).toBeUndefined();
    expect(info.notAfter.getTime() - Date.now()).toBeGreaterThan((caLifetimeDays - 1) * dayMs);
  });

  it("is not made twice over", async () => {
    await expect(createCa(dir)).rejects.toSatisfy((error) => isSecurityError(error) && error.code === "exists");
  });
});

describe("a node certificate", () => {
  it("names role and id in the subject, hosts in subjectAltName, and verifies against the CA", async () => {
    const folder = await issueNodeCertificate(dir, { role: "device", id: "dev0", hosts: ["127.0.0.1", "::1", "dev0.example"] });
    const certificate = join(folder, serverCertificateFile);
    expect(openssl("verify", "-CAfile", join(dir, caCertificateFile), certificate)).toMatch(/: OK/);
    expect(openssl("x509", "-in", certificate, "-noout", "-subject")).toMatch(/O = switchyard, OU = device, CN = dev0/);
    const info = await readCertificate(certificate);
    expect(info.identity).toEqual({ role: "device", id: "dev0" });
    expect(info.hosts).toEqual(["IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1", "DNS:dev0.example"]);
    expect(info.notAfter.getTime() - Date.now()).toBeGreaterThan((leafLifetimeDays - 1) * dayMs);
    expect(openssl("x509", "-in", certificate, "-noout", "-ext", "extendedKeyUsage")).toMatch(/Server Authentication, TLS Web Client Authentication/);
  });

  it("is in the GnuTLS layout, client files linking to the server pair, keys 0600", async () => {
    const folder = join(dir, "device-dev0");
    expect(await modeOf(folder)).toBe(0o700);
    expect(await modeOf(join(folder, serverKeyFile))).toBe(0o600);
    expect(await readlink(join(folder, clientCertificateFile))).toBe(serverCertificateFile);
    expect(await readlink(join(folder, clientKeyFile))).toBe(serverKeyFile);
    expect((await lstat(join(folder, caCertificateFile))).isFile()).toBe(true);
  });

  it.each([
    [{ role: "apparatus", id: "a/0", hosts: ["127.0.0.1"] }, /id "a\/0" must be/],
    [{ role: "apparatus", id: "a0", hosts: [] }, /needs 1 to 32 hosts/],
    [{ role: "apparatus", id: "a0", hosts: ["bad host"] }, /neither an IP address nor a DNS name/],
  ] as const)("refuses %j", async (request, message) => {
    await expect(issueNodeCertificate(dir, { ...request, hosts: [...request.hosts] })).rejects.toThrow(message);
  });

  it("is not issued over an existing one, nor without a CA", async () => {
    await expect(issueNodeCertificate(dir, { role: "device", id: "dev0", hosts: ["127.0.0.1"] })).rejects.toThrow(/exists already/);
    await expect(issueNodeCertificate(join(root, "nowhere"), { role: "device", id: "dev0", hosts: ["127.0.0.1"] })).rejects.toThrow(/holds no CA/);
  });
});

describe("a client certificate", () => {
  it("is for client authentication only, in the GnuTLS client layout", async () => {
    const folder = await issueClientCertificate(dir, { role: "operator", id: "admin" });
    const certificate = join(folder, clientCertificateFile);
    expect(openssl("x509", "-in", certificate, "-noout", "-ext", "extendedKeyUsage")).toMatch(/TLS Web Client Authentication\s*$/);
    expect(await modeOf(join(folder, clientKeyFile))).toBe(0o600);
    expect((await readCertificate(certificate)).identity).toEqual({ role: "operator", id: "admin" });
  });
});

describe("a cluster folder", () => {
  it("lists the CA first, then each identity; ensureCertificates makes only what is missing", async () => {
    const made = await ensureCertificates(dir, { nodes: [{ role: "device", id: "dev0", hosts: ["127.0.0.1"] }], clients: [{ role: "viewer", id: "watcher" }] });
    expect(made).toEqual([join(dir, "viewer-watcher")]);
    const listed = await listCertificates(dir);
    expect(listed.map((info) => info.identity)).toEqual([undefined, { role: "device", id: "dev0" }, { role: "operator", id: "admin" }, { role: "viewer", id: "watcher" }]);
  });
});
