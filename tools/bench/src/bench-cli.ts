/**
 * The command line every benchmark shares: --help prints what it measures,
 * its options and an example, and exits 0; a mistyped option or value gets
 * one line naming it and exit code 2, as the switchyard CLI does, never a
 * stack trace.
 */
import { parseArgs } from "node:util";
import { quietIpServerNameWarning } from "@switchyard/console";
import { benchArguments } from "./processes.js";
import { UsageError } from "./run-options.js";

/** What `--help` says of one benchmark. */
export interface BenchHelp {
  /** The pnpm script: "bench:pause". */
  readonly command: string;
  /** What it measures, a few lines. */
  readonly summary: string;
  /** Each option with what it does and its default. */
  readonly options: readonly (readonly [flag: string, text: string])[];
  readonly examples: readonly string[];
}

type OptionSpec = { readonly type: "string"; readonly default?: string } | { readonly type: "boolean"; readonly default?: boolean };
type OptionSpecs = Readonly<Record<string, OptionSpec>>;
type ValuesOf<T extends OptionSpecs> = {
  -readonly [K in keyof T]: T[K] extends { readonly type: "boolean" }
    ? (T[K] extends { readonly default: boolean } ? boolean : boolean | undefined)
    : (T[K] extends { readonly default: string } ? string : string | undefined);
};

/** The --help text: summary, usage line, options, examples. */
export function helpText(help: BenchHelp): string {
  const width = Math.max(...help.options.map(([flag]) => flag.length), 4) + 2;
  return [
    `Usage: pnpm ${help.command} [-- OPTIONS]   (from the repository's root; it builds first)`,
    "",
    help.summary,
    "",
    "Options:",
    ...help.options.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
    `  ${"--help".padEnd(width)}print this help`,
    "",
    "Examples:",
    ...help.examples.map((example) => `  ${example}`),
    "",
  ].join("\n");
}

/**
 * Parses the command line against `options` and turns the values into the
 * benchmark's settings with `settingsOf` (which throws UsageError, or
 * any Error, for a value it cannot run with). --help prints the help and
 * exits 0; any mistake prints one line and exits 2.
 */
export function benchSettings<T extends OptionSpecs, S>(help: BenchHelp, options: T, settingsOf: (values: ValuesOf<T>) => S, args: readonly string[] = benchArguments()): S {
  // Every benchmark starts here; those with console calls over TLS would print DEP0123 (see the function).
  quietIpServerNameWarning();
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(helpText(help));
    process.exit(0);
  }
  try {
    const { values } = parseArgs({ args: [...args], options: { ...options }, strict: true, allowPositionals: false });
    // Node's types for parseArgs lose the defaults under a generic T; the specs above give them.
    return settingsOf(values as unknown as ValuesOf<T>);
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    process.stderr.write(`${help.command}: ${message} (pnpm ${help.command} -- --help)\n`);
    process.exit(2);
  }
}

/** A whole number of at least `least`, for option `flag`. */
export function wholeOption(text: string, least: number, flag: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(value) || value < least) throw new UsageError(`${flag} must be a whole number of at least ${least}, not '${text}'`);
  return value;
}
