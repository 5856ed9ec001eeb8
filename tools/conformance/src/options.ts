/**
 * The command line of `switchyard-conformance`: parsed strictly, and every
 * mistake a UsageError (exit 2, one line on stderr).
 */
import { parseArgs } from "node:util";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** How the apparatus under test is reached. */
export type Target =
  | { readonly kind: "launch"; readonly command: string; readonly deviceAddress: string | undefined }
  | { readonly kind: "running"; readonly grpcAddress: string; readonly nbdAddress: string; readonly deviceAddress: string };

export type OutputFormat = "tap" | "junit";

export interface SuiteOptions {
  readonly target: Target;
  /**
   * Whether the run uses mutual TLS on gRPC (and NBD): given --cert-dir, or
   * a --launch command that takes {cert_dir}.
   */
  readonly tls: boolean;
  /** The cluster certificate folder (`switchyard cert ca`); the suite makes a CA of its own when absent. */
  readonly certDir: string | undefined;
  readonly featuresPath: string | undefined;
  readonly expectedFailuresPath: string | undefined;
  /** What stdout carries: TAP as cases finish, or JUnit XML at the end. */
  readonly format: OutputFormat;
  readonly junitPath: string | undefined;
  readonly only: RegExp | undefined;
  /** How long each write waits at the suite's own device while a drain case runs. */
  readonly writeDelayMs: number;
}

export type ParsedCommand = { readonly kind: "help" } | { readonly kind: "list" } | { readonly kind: "run"; readonly options: SuiteOptions };

/** The slow disk's default: long beside a loopback round trip, short beside the suite's run time. */
export const writeDelayMsDefault = 300;
const writeDelayMsMax = 5_000;

export const helpText = `Usage: switchyard-conformance --launch "COMMAND" [--device HOST:PORT] [options]
       switchyard-conformance --apparatus HOST:PORT --nbd HOST:PORT --device HOST:PORT [options]

Checks a virtualization apparatus against the Switchyard protocol: the
Apparatus gRPC service (Hold, Apply, Release, Abort, GetState, LoadTable,
Register), the grpc.health.v1 service, and its NBD server. The suite is the
controller (it takes the device's controller lease) and the host.

  --launch "COMMAND"    start the apparatus under test with sh -c COMMAND, after
                        replacing {device} (the device's gRPC address), {nbd_port}
                        and {grpc_port} (free ports the apparatus must listen on),
                        and {cert_dir} (its certificate folder: the run then uses TLS);
                        without --device the suite starts a device of its own
  --apparatus HOST:PORT the gRPC address of an apparatus already running
  --nbd HOST:PORT       its NBD address
  --device HOST:PORT    the storage device it uses (a Switchyard Device service);
                        the suite takes the controller lease there and writes to
                        free storage areas: use a scratch device with no controller
  --cert-dir DIR        the cluster's certificate folder ('switchyard cert ca'): the run
                        uses mutual TLS; the suite makes the certificates it needs there
                        (see README) unless they exist, which needs the CA's key
  --features FILE       what the apparatus supports (YAML or JSON, see README); cases
                        needing a feature declared absent are skipped by declaration
  --expected-failures FILE
                        case ids known to fail, one a line: they do not fail the run,
                        but one that passes does (the list must shrink)
  --format tap|junit    stdout as TAP (default) or JUnit XML
  --only PATTERN        run only the cases whose id matches this regular expression
  --junit FILE          also write the results as JUnit XML to FILE
  --write-delay-ms N    how long the suite's own device delays writes during the
                        drain cases (default ${writeDelayMsDefault})
  --list                list the cases and what each checks, and exit
  -h, --help            this text

Output is TAP on stdout, ending with a line "N passed, N failed, N skipped".
Exit code 0 when nothing failed, 1 when a case failed, 2 on bad usage.

Example:
  switchyard-conformance --launch "switchyard apparatus serve --id under-test --no-candidate --device {device} --nbd-port {nbd_port} --grpc-port {grpc_port} --cert-dir {cert_dir} --nbd-tls require"
  switchyard-conformance --apparatus 127.0.0.1:50060 --nbd 127.0.0.1:10810 --device 127.0.0.1:50051 --cert-dir ./tls --features features.yaml --expected-failures failing.txt --junit results.xml`;

const addressPattern = /^[^\s:]+:\d{1,5}$/;

function address(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (!addressPattern.test(value)) throw new UsageError(`${option} ${JSON.stringify(value)} is not HOST:PORT`);
  return value;
}

function pattern(value: string | undefined): RegExp | undefined {
  if (value === undefined) return undefined;
  try {
    return new RegExp(value);
  } catch {
    throw new UsageError(`--only ${JSON.stringify(value)} is not a regular expression`);
  }
}

function delay(value: string | undefined): number {
  if (value === undefined) return writeDelayMsDefault;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > writeDelayMsMax) {
    throw new UsageError(`--write-delay-ms must be a whole number from 0 to ${writeDelayMsMax}`);
  }
  return parsed;
}

function format(value: string | undefined): OutputFormat {
  if (value === undefined || value === "tap" || value === "junit") return value ?? "tap";
  throw new UsageError(`--format must be tap or junit, not ${JSON.stringify(value)}`);
}

function nonEmpty(value: string | undefined, option: string): string | undefined {
  if (value === "") throw new UsageError(`${option} needs a file name`);
  return value;
}

function target(values: Readonly<Record<string, string | boolean | undefined>>): Target {
  const text = (name: string): string | undefined => (typeof values[name] === "string" ? values[name] : undefined);
  const launch = text("launch");
  const apparatus = address(text("apparatus"), "--apparatus");
  const nbd = address(text("nbd"), "--nbd");
  const device = address(text("device"), "--device");
  if (launch !== undefined) {
    if (apparatus !== undefined || nbd !== undefined) throw new UsageError("give --launch, or --apparatus with --nbd, not both");
    if (launch.trim() === "") throw new UsageError("--launch needs a command");
    return { kind: "launch", command: launch, deviceAddress: device };
  }
  if (apparatus === undefined) throw new UsageError("give --launch \"COMMAND\" or --apparatus HOST:PORT (see --help)");
  if (nbd === undefined) throw new UsageError("--apparatus needs --nbd HOST:PORT");
  if (device === undefined) throw new UsageError("--apparatus needs --device HOST:PORT");
  return { kind: "running", grpcAddress: apparatus, nbdAddress: nbd, deviceAddress: device };
}

export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        launch: { type: "string" }, apparatus: { type: "string" }, nbd: { type: "string" }, device: { type: "string" },
        only: { type: "string" }, junit: { type: "string" }, "write-delay-ms": { type: "string" },
        "cert-dir": { type: "string" }, features: { type: "string" }, "expected-failures": { type: "string" }, format: { type: "string" },
        list: { type: "boolean" }, help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    // Node's messages run to several lines; one, with where to look next.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${(message.split("\n")[0] ?? message).replace(/\.$/, "")}; --help lists the options`);
  }
  const values = parsed.values;
  if (values.help === true) return { kind: "help" };
  if (values.list === true) return { kind: "list" };
  const chosen = target(values);
  const certDir = nonEmpty(values["cert-dir"], "--cert-dir");
  return {
    kind: "run",
    options: {
      target: chosen,
      tls: certDir !== undefined || (chosen.kind === "launch" && chosen.command.includes("{cert_dir}")),
      certDir,
      featuresPath: nonEmpty(values.features, "--features"),
      expectedFailuresPath: nonEmpty(values["expected-failures"], "--expected-failures"),
      format: format(values.format),
      junitPath: nonEmpty(values.junit, "--junit"),
      only: pattern(values.only),
      writeDelayMs: delay(values["write-delay-ms"]),
    },
  };
}
