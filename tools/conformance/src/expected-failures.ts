/**
 * A committed list of the cases an implementation is known to fail, the way
 * protobuf's conformance runner reads failing_tests.txt: one case id a line,
 * `#` comments. A listed case that fails does not fail the run (it is
 * reported `# TODO`); a listed case that passes does, so that the list only
 * ever shrinks; an id that names no case is a usage mistake.
 */
import { readFile } from "node:fs/promises";

export class ExpectedFailuresError extends Error {
  readonly code = "BAD_EXPECTED_FAILURES_FILE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ExpectedFailuresError";
  }
}

/** The ids in `text`; every one must be among `knownIds`. */
export function parseExpectedFailures(text: string, file: string, knownIds: ReadonlySet<string>): ReadonlySet<string> {
  const ids = new Set<string>();
  for (const [index, raw] of text.split("\n").entries()) {
    const id = raw.replace(/#.*$/, "").trim();
    if (id === "") continue;
    if (!knownIds.has(id)) throw new ExpectedFailuresError(`${file} line ${index + 1}: ${JSON.stringify(id)} is no case id (see --list)`);
    ids.add(id);
  }
  return ids;
}

export async function readExpectedFailures(file: string | undefined, knownIds: ReadonlySet<string>): Promise<ReadonlySet<string>> {
  if (file === undefined) return new Set();
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ExpectedFailuresError(`cannot read the expected-failures file ${file}: ${String(error)}`, { cause: error });
  }
  return parseExpectedFailures(text, file, knownIds);
}
