/** The shape of every console command, and the options every client command shares. */
import { ConsoleClient } from "./controller-client.js";
import { controllerConnection } from "./endpoints.js";
import { outputOptions, outputOptionsHelp, type Io } from "./output.js";
import { stringOption, type Options, type Parsed } from "./usage.js";

export interface Command {
  /** Words after `switchyard`: ["volume", "create"]. */
  readonly words: readonly string[];
  readonly summary: string;
  /** The --help text: usage, options, and at least one example. */
  readonly help: string;
  run(argv: readonly string[], io: Io): Promise<number>;
}

/** Where the appliance is, and how to print: every client command takes these. */
export const clientOptions: Options = {
  dir: { type: "string" },
  endpoint: { type: "string" },
  "cert-dir": { type: "string" },
  ...outputOptions,
};

export const clientOptionsHelp = `  --dir DIR             data folder of a running 'switchyard up' (default ./switchyard-data)
  --endpoint HOST:PORT  a controller's gRPC address instead of --dir
  --cert-dir DIR        a client certificate folder ('switchyard cert client') for an appliance with
                        mutual TLS (default with --dir: the operator folder its endpoints.json names)
${outputOptionsHelp}`;

/** Runs `body` with a client of the appliance that --dir or --endpoint names. */
export async function withClient<T>(parsed: Parsed, body: (client: ConsoleClient) => Promise<T>): Promise<T> {
  const { address, credentials } = await controllerConnection({
    endpoint: stringOption(parsed, "endpoint"),
    dir: stringOption(parsed, "dir"),
    certDir: stringOption(parsed, "cert-dir"),
  });
  const client = new ConsoleClient(address, credentials);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}
