/**
 * Command-line parsing shared by every command: flags are parsed strictly, a
 * mistake is a UsageError (exit code 2, one line on stderr), and --help prints
 * the command's text with an example.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { parseSize } from "./sizes.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** One line for what node:util's parseArgs refused, saying where the fix is; its own messages run to several lines. */
function parseProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  const option = /'(-[^']*)'/.exec(message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${option}; --help lists the options`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") return `${(message.split("\n")[0] ?? message).replace(/\.$/, "")}; --help shows the usage`;
  return message.split("\n")[0] ?? message;
}

export function parse(argv: readonly string[], options: Options, positionalsMax: number): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(parseProblem(error));
  }
  if (parsed.positionals.length > positionalsMax) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionalsMax])}; --help shows the usage`);
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [key, value] of Object.entries(parsed.values)) {
    values[key] = Array.isArray(value) ? value.join(",") : value;
  }
  return { values, positionals: parsed.positionals };
}

export function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === "string" ? value : undefined;
}

export function requiredString(parsed: Parsed, name: string): string {
  const value = stringOption(parsed, name);
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

export function flag(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

export function sizeOption(parsed: Parsed, name: string): number | undefined {
  const text = stringOption(parsed, name);
  if (text === undefined) return undefined;
  const bytes = parseSize(text);
  if (bytes === undefined) throw new UsageError(`--${name} ${JSON.stringify(text)} is not a size (examples: 512MiB, 1GiB, 4096)`);
  return bytes;
}

/** A TCP port: 0 asks the system for a free one. */
export function portOption(parsed: Parsed, name: string, fallback: number): number {
  const text = stringOption(parsed, name);
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--${name} ${JSON.stringify(text)} is not a port (0 to 65535)`);
  return port;
}

export function integerOption(parsed: Parsed, name: string, fallback: number, minimum: number, maximum: number): number {
  const text = stringOption(parsed, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    throw new UsageError(`--${name} ${JSON.stringify(text)} must be a whole number from ${minimum} to ${maximum}`);
  }
  return value;
}

export function positional(parsed: Parsed, index: number, what: string): string {
  const value = parsed.positionals[index];
  if (value === undefined) throw new UsageError(`missing ${what}`);
  return value;
}
