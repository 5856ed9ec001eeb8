/**
 * `switchyard cert ca | node | client | list`: the cluster CA and the
 * certificates of machines and people that `switchyard up` does not make
 * for itself (separate machines, more operators). openssl makes them
 * (@switchyard/security); this file only reads options and prints.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  caCertificateFile,
  createCa,
  isClientRole,
  isNodeRole,
  isSecurityError,
  issueClientCertificate,
  issueNodeCertificate,
  leafLifetimeDays,
  caLifetimeDays,
  listCertificates,
  readCertificate,
  serverCertificateFile,
  clientCertificateFile,
  type CertificateInfo,
} from "@switchyard/security";
import { certificateFolderName, certificateFolderOf } from "../appliance-certificates.js";
import type { Command } from "../command.js";
import { defaultDataDir } from "../endpoints.js";
import { dataFormat, outputOptions, outputOptionsHelp, printData, printTable, type DataFormat, type Io } from "../output.js";
import { parse, requiredString, stringOption, UsageError, type Parsed } from "../usage.js";

const dirHelp = `  --dir DIR             the certificate folder (default ./${defaultDataDir}/${certificateFolderName}, the one
                        'switchyard up' makes); a data folder of 'up' means its ${certificateFolderName}/ inside`;

/**
 * The certificate folder --dir names: a data folder of `up` stands for its
 * tls/ folder, so `--dir ./switchyard-data` works for both kinds of command.
 */
export function certificateDirOption(parsed: Parsed): string {
  const dir = stringOption(parsed, "dir");
  if (dir === undefined || dir === "") return certificateFolderOf(defaultDataDir);
  return existsSync(join(certificateFolderOf(dir), caCertificateFile)) ? certificateFolderOf(dir) : dir;
}

/** A certificate as scripts get it (--output json|yaml). */
function certificateData(info: CertificateInfo): Record<string, unknown> {
  return {
    path: info.path,
    subject: info.subject,
    role: info.isCa ? "ca" : (info.identity?.role ?? null),
    id: info.identity?.id ?? null,
    hosts: info.hosts,
    not_before: info.notBefore.toISOString(),
    not_after: info.notAfter.toISOString(),
    serial_number: info.serialNumber,
    fingerprint_sha256: info.fingerprint256,
  };
}

function printMade(io: Io, format: DataFormat | undefined, info: CertificateInfo, line: string): void {
  if (format !== undefined) printData(io, format, certificateData(info));
  else io.stdout.write(`${line}, valid until ${info.notAfter.toISOString()}\n`);
}

/** An id or host the certificate cannot carry is the user's to fix: exit 2 with the one line. */
async function usageOnBadIdentity<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (isSecurityError(error) && error.code === "invalid-identity") throw new UsageError(error.message);
    throw error;
  }
}

export const certCa: Command = {
  words: ["cert", "ca"],
  summary: "make the cluster CA that signs every node and client certificate",
  help: `Usage: switchyard cert ca [--dir DIR] [--output table|json|yaml]

Makes a certificate authority in DIR: ca-cert.pem (given to every machine)
and ca-key.pem (0600; it never leaves DIR). Valid ${caLifetimeDays} days. Refuses when
DIR holds a CA already: a second one would orphan every certificate the
first signed. 'switchyard up' makes its own in DATA/${certificateFolderName} on first start.

Options:
  --dir DIR             where to make the CA (default ./${defaultDataDir}/${certificateFolderName})
${outputOptionsHelp}

Example:
  switchyard cert ca --dir ./certs`,
  async run(argv, io) {
    const parsed = parse(argv, { dir: { type: "string" }, ...outputOptions }, 0);
    const format = dataFormat(parsed);
    const dir = stringOption(parsed, "dir") ?? certificateFolderOf(defaultDataDir);
    await createCa(dir);
    const info = await readCertificate(join(dir, caCertificateFile));
    printMade(io, format, info, `made the cluster CA in ${dir} (${caCertificateFile}; the key ca-key.pem stays there)`);
    return 0;
  },
};

/** --host given several times arrives joined by commas (usage.ts); either way is one list. */
function hostsOption(parsed: Parsed): string[] {
  const hosts = requiredString(parsed, "host").split(",").map((host) => host.trim()).filter((host) => host !== "");
  if (hosts.length === 0) throw new UsageError("--host is required: an address or name the node answers at");
  return hosts;
}

export const certNode: Command = {
  words: ["cert", "node"],
  summary: "make a device's or apparatus's certificate, signed by the cluster CA",
  help: `Usage: switchyard cert node --role device|apparatus --id ID --host ADDR [--host ADDR...] [--dir DIR]
                             [--output table|json|yaml]

Makes DIR/ROLE-ID/: the node's key (0600) and certificate (subject
O=switchyard, OU=ROLE, CN=ID; every --host as an IP or DNS subjectAltName,
which clients check against the address they dial), and the CA certificate.
The folder is in the GnuTLS layout (server-cert.pem, server-key.pem, and
client-*.pem linking to them): copy it whole to the node. Valid ${leafLifetimeDays} days.

Options:
  --role ROLE           device or apparatus
  --id ID               the node's id (letters, digits, '.', '_', '-'; 64 at most)
  --host ADDR           an address or DNS name the node answers at; repeat it, or separate with commas
${dirHelp}
${outputOptionsHelp}

Example:
  switchyard cert node --role apparatus --id a2 --host 10.0.0.12 --host node12.example --dir ./certs`,
  async run(argv, io) {
    const parsed = parse(argv, { dir: { type: "string" }, role: { type: "string" }, id: { type: "string" }, host: { type: "string", multiple: true }, ...outputOptions }, 0);
    const format = dataFormat(parsed);
    const role = requiredString(parsed, "role");
    if (!isNodeRole(role)) throw new UsageError(`--role must be device or apparatus, not ${JSON.stringify(role)}`);
    const request = { role, id: requiredString(parsed, "id"), hosts: hostsOption(parsed) };
    const folder = await usageOnBadIdentity(() => issueNodeCertificate(certificateDirOption(parsed), request));
    const info = await readCertificate(join(folder, serverCertificateFile));
    printMade(io, format, info, `made ${role} ${request.id}'s certificate in ${folder} for ${request.hosts.join(", ")}`);
    return 0;
  },
};

export const certClient: Command = {
  words: ["cert", "client"],
  summary: "make an operator's or viewer's client certificate",
  help: `Usage: switchyard cert client --role operator|viewer --name NAME [--dir DIR] [--output table|json|yaml]

Makes DIR/ROLE-NAME/ with ca-cert.pem, client-cert.pem and client-key.pem
(0600): the folder libnbd (tls-certificates=DIR), qemu (tls-creds-x509,
dir=DIR, endpoint=client) and the switchyard console read. An operator may
change the cluster; a viewer may only read it. Valid ${leafLifetimeDays} days.

Options:
  --role ROLE           operator or viewer
  --name NAME           who it is for (letters, digits, '.', '_', '-'; 64 at most)
${dirHelp}
${outputOptionsHelp}

Example:
  switchyard cert client --role viewer --name grafana --dir ./certs`,
  async run(argv, io) {
    const parsed = parse(argv, { dir: { type: "string" }, role: { type: "string" }, name: { type: "string" }, ...outputOptions }, 0);
    const format = dataFormat(parsed);
    const role = requiredString(parsed, "role");
    if (!isClientRole(role)) throw new UsageError(`--role must be operator or viewer, not ${JSON.stringify(role)}`);
    const request = { role, id: requiredString(parsed, "name") };
    const folder = await usageOnBadIdentity(() => issueClientCertificate(certificateDirOption(parsed), request));
    const info = await readCertificate(join(folder, clientCertificateFile));
    printMade(io, format, info, `made ${role} ${request.id}'s client certificate in ${folder}`);
    return 0;
  },
};

/** "2031-12-03 (in 1825 days)", or "EXPIRED 2026-01-01". */
function expiryCell(notAfter: Date, nowMs: number): string {
  const day = notAfter.toISOString().slice(0, 10);
  const daysLeft = Math.floor((notAfter.getTime() - nowMs) / (24 * 60 * 60 * 1000));
  return daysLeft < 0 ? `EXPIRED ${day}` : `${day} (in ${daysLeft} days)`;
}

export const certList: Command = {
  words: ["cert", "list"],
  summary: "list the CA and every certificate in a certificate folder, with expiry",
  help: `Usage: switchyard cert list [--dir DIR] [--output table|json|yaml]

Lists the CA and each ROLE-ID folder's certificate: subject, role, id and
when it expires. --json prints [{"path", "subject", "role", "id", "hosts",
"not_before", "not_after", "serial_number", "fingerprint_sha256"}].

Options:
${dirHelp}
${outputOptionsHelp}

Example:
  switchyard cert list --dir ./switchyard-data`,
  async run(argv, io) {
    const parsed = parse(argv, { dir: { type: "string" }, ...outputOptions }, 0);
    const format = dataFormat(parsed);
    const dir = certificateDirOption(parsed);
    if (!existsSync(join(dir, caCertificateFile))) throw new UsageError(`${dir} holds no CA (${caCertificateFile}); make one with 'switchyard cert ca --dir ${dir}'`);
    const found = await listCertificates(dir);
    if (format !== undefined) {
      printData(io, format, found.map(certificateData));
      return 0;
    }
    const nowMs = Date.now();
    printTable(
      io,
      ["SUBJECT", "ROLE", "ID", "EXPIRES"],
      found.map((info) => [info.subject, info.isCa ? "ca" : (info.identity?.role ?? "-"), info.identity?.id ?? "-", expiryCell(info.notAfter, nowMs)]),
    );
    return 0;
  },
};
