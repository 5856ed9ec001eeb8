/**
 * Hosts' NBD over TLS (issue 17, item 3): which mode an apparatus's NBD
 * server runs in (`--nbd-tls off|on|require` of `up` and `apparatus serve`),
 * and the TLS material it serves with (the node certificate in its folder).
 *
 * Without TLS any machine that reaches a data port reads and writes every
 * volume, so plain NBD on an address other machines reach is refused with
 * one line unless `--insecure` says it is meant. With certificates the
 * default is "require" off loopback and "on" on loopback, where a plain
 * client is this machine's own.
 */
import { readTlsMaterial } from "@switchyard/security";
import { isNbdTlsMode, nbdTlsModes, type NbdClientTls, type NbdServerTls, type NbdTlsMode } from "@switchyard/nbd";
import { isLoopback } from "./plain-control.js";
import { UsageError } from "./usage.js";

/** Help text for --nbd-tls, shared by `up` and `apparatus serve`; `certificates` names what provides them. */
export function nbdTlsHelp(certificates: string): string {
  return `  --nbd-tls MODE         hosts' NBD over TLS (NBD_OPT_STARTTLS, a client certificate of the cluster CA
                         required): off, on (a client may upgrade) or require (nothing without TLS);
                         default with ${certificates}: require, or on when --data-host is loopback;
                         without: off, refused on an address other machines reach unless --insecure`;
}

/** The --nbd-tls text as a mode; undefined when not given. */
export function nbdTlsOption(text: string | undefined): NbdTlsMode | undefined {
  if (text === undefined) return undefined;
  if (!isNbdTlsMode(text)) throw new UsageError(`--nbd-tls must be ${nbdTlsModes.join(", ")}, not ${text}`);
  return text;
}

export interface NbdTlsChoice {
  /** --nbd-tls as given, if given. */
  readonly requested: NbdTlsMode | undefined;
  /** Where hosts reach the NBD servers. */
  readonly dataHost: string;
  /** Whether node certificates exist for the apparatuses (`up --tls`, `--cert-dir`). */
  readonly certificates: boolean;
  readonly insecure: boolean;
  /** The option that provides certificates, for messages: "--tls" or "--cert-dir". */
  readonly certificateOption: string;
}

/** The mode to serve in, or a UsageError saying why the combination is refused. */
export function chooseNbdTls(choice: NbdTlsChoice): NbdTlsMode {
  const loopback = isLoopback(choice.dataHost);
  const mode = choice.requested ?? (choice.certificates ? (loopback ? "on" : "require") : "off");
  if (mode !== "off" && !choice.certificates) {
    throw new UsageError(`--nbd-tls ${mode} needs certificates: give ${choice.certificateOption}`);
  }
  if (mode === "off" && !loopback && !choice.insecure) {
    throw new UsageError(`plain NBD on ${choice.dataHost} lets other machines read and write every volume: serve it with --nbd-tls require (and ${choice.certificateOption}), listen on 127.0.0.1, or say --insecure`);
  }
  return mode;
}

/** A node calling another's NBD (an apparatus to the device's LUs) with the client pair and CA of `folder`. */
export function nbdClientTls(folder: string): NbdClientTls {
  const material = readTlsMaterial(folder, "client");
  return { ca: material.ca, cert: material.certificate, key: material.key };
}

/** The NBD server's TLS setting: in "on" and "require", the node's server pair and CA from `folder`. */
export function nbdServerTls(mode: NbdTlsMode, folder: string | undefined): NbdServerTls {
  if (mode === "off") return { mode };
  if (folder === undefined) throw new UsageError(`--nbd-tls ${mode} needs a certificate folder`);
  const material = readTlsMaterial(folder, "server");
  return { mode, key: material.key, cert: material.certificate, ca: material.ca };
}
