/**
 * Test certificates for NBD over TLS (on the "./testing" subpath): a CA, a
 * server certificate for loopback, a client certificate, and a second CA
 * with a client certificate of its own that servers must refuse. Made with
 * the openssl binary into a temporary folder; each identity's folder is in
 * the GnuTLS layout (ca-cert.pem, client-cert.pem, client-key.pem,
 * server-cert.pem, server-key.pem) that libnbd, qemu and nbdkit read.
 *
 * The NBD package depends on no Switchyard package, so this is a small
 * openssl driver of its own rather than the cluster PKI of
 * @switchyard/security.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** openssl makes a P-256 key or signs in milliseconds; a loaded CI machine gets a hundred times that. */
const opensslTimeoutMs = 30_000;
/** Long enough for any test run, short enough that nobody mistakes these for real ones. */
const lifetimeDays = 2;

export interface TlsTestIdentity {
  /** A folder in the GnuTLS layout: ca-cert.pem and this identity's pair (client-* or server-*). */
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface TlsTestCertificates {
  /** The server's identity: server-cert.pem for 127.0.0.1 and localhost. */
  readonly server: TlsTestIdentity;
  /** A client the CA signed. */
  readonly client: TlsTestIdentity;
  /** A client signed by another CA (its ca is that other CA). */
  readonly foreignClient: TlsTestIdentity;
  remove(): Promise<void>;
}

function openssl(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", [...args], { timeout: opensslTimeoutMs }, (error, _stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`openssl ${args[0] ?? ""} failed: ${stderr.trim().split("\n")[0] ?? error.message}`, { cause: error }));
        return;
      }
      resolve();
    });
  });
}

async function makeKey(path: string): Promise<void> {
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]);
}

async function makeCa(dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await makeKey(join(dir, "ca-key.pem"));
  await openssl([
    "req", "-new", "-x509", "-key", join(dir, "ca-key.pem"), "-subj", `/CN=${name}`, "-days", String(lifetimeDays),
    "-addext", "basicConstraints=critical,CA:true,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-out", join(dir, "ca-cert.pem"),
  ]);
}

/** Signs a new key's certificate with the CA in `caDir`, into `dir` as `side`-key.pem and `side`-cert.pem. */
async function makeLeaf(caDir: string, dir: string, side: "client" | "server", name: string): Promise<TlsTestIdentity> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, `${side}-key.pem`);
  const requestPath = join(dir, `${side}.csr`);
  const extensionsPath = join(dir, `${side}.cnf`);
  await makeKey(keyPath);
  await openssl(["req", "-new", "-key", keyPath, "-subj", `/O=switchyard-test/CN=${name}`, "-out", requestPath]);
  const usage = side === "server" ? "serverAuth, clientAuth" : "clientAuth";
  const extensions = ["basicConstraints = critical, CA:false", "keyUsage = critical, digitalSignature", `extendedKeyUsage = ${usage}`];
  if (side === "server") extensions.push("subjectAltName = IP:127.0.0.1, DNS:localhost");
  await writeFile(extensionsPath, `${extensions.join("\n")}\n`);
  await openssl([
    "x509", "-req", "-in", requestPath, "-CA", join(caDir, "ca-cert.pem"), "-CAkey", join(caDir, "ca-key.pem"),
    "-days", String(lifetimeDays), "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-sha256", "-extfile", extensionsPath,
    "-out", join(dir, `${side}-cert.pem`),
  ]);
  const ca = await readFile(join(caDir, "ca-cert.pem"), "utf8");
  await writeFile(join(dir, "ca-cert.pem"), ca);
  return { dir, ca, cert: await readFile(join(dir, `${side}-cert.pem`), "utf8"), key: await readFile(keyPath, "utf8") };
}

/** Makes the certificates in a new temporary folder; `remove` deletes it. */
export async function makeTlsTestCertificates(): Promise<TlsTestCertificates> {
  const root = await mkdtemp(join(tmpdir(), "nbd-tls-"));
  try {
    const caDir = join(root, "ca");
    const foreignCaDir = join(root, "foreign-ca");
    await Promise.all([makeCa(caDir, "nbd-test-ca"), makeCa(foreignCaDir, "nbd-foreign-ca")]);
    const [server, client, foreignClient] = await Promise.all([
      makeLeaf(caDir, join(root, "server"), "server", "nbd-server"),
      makeLeaf(caDir, join(root, "client"), "client", "nbd-client"),
      makeLeaf(foreignCaDir, join(root, "foreign-client"), "client", "nbd-client"),
    ]);
    return { server, client, foreignClient, remove: () => rm(root, { recursive: true, force: true }) };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}
