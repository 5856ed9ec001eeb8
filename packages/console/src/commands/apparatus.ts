/** `switchyard apparatus list | fence | rejoin`. */
import type { ApparatusSummary__Output } from "@switchyard/proto";
import { clientOptions, clientOptionsHelp, withClient, type Command } from "../command.js";
import type { ConsoleClient } from "../controller-client.js";
import { dataFormat, printData, type Io } from "../output.js";
import { parse, positional } from "../usage.js";
import { apparatusJson, printApparatuses } from "./cluster.js";

export const apparatusList: Command = {
  words: ["apparatus", "list"],
  summary: "list apparatuses: state, NBD and gRPC addresses, pid, table generation",
  help: `Usage: switchyard apparatus list [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Lists every apparatus the controller knows, with its state: serving, held
(a change holds some of its I/O), fenced (out of the control range; the
device refuses its I/O) or down (it does not answer).

Options:
${clientOptionsHelp}

Example:
  switchyard apparatus list --json`,
  async run(argv, io) {
    const parsed = parse(argv, clientOptions, 0);
    const format = dataFormat(parsed);
    const status = await withClient(parsed, (client) => client.clusterStatus());
    if (format !== undefined) printData(io, format, status.apparatuses.map(apparatusJson));
    else printApparatuses(io, status.apparatuses);
    return 0;
  },
};

/** `apparatus fence | rejoin ID`: one call about one apparatus, then the apparatus as it is after it. */
function onOneApparatus(call: (client: ConsoleClient, id: string) => Promise<ApparatusSummary__Output | null>): (argv: readonly string[], io: Io) => Promise<number> {
  return async (argv, io) => {
    const parsed = parse(argv, clientOptions, 1);
    const format = dataFormat(parsed);
    const id = positional(parsed, 0, "apparatus ID");
    const apparatus = await withClient(parsed, (client) => call(client, id));
    if (format !== undefined) printData(io, format, apparatus === null ? null : apparatusJson(apparatus));
    else if (apparatus !== null) printApparatuses(io, [apparatus]);
    return 0;
  };
}

export const apparatusFence: Command = {
  words: ["apparatus", "fence"],
  summary: "take an apparatus out of service: the device refuses its I/O until it rejoins",
  help: `Usage: switchyard apparatus fence ID [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Removes the apparatus from the control range, as the controller does with
one that stops answering: the device refuses its I/O at once (hosts on it get
EPERM and should reconnect through another apparatus), and changes go on
without it. The fence is recorded in the configuration store, so it lasts
across restarts and a new controller until 'switchyard apparatus rejoin ID'.

Options:
${clientOptionsHelp}

Example:
  switchyard apparatus fence a1`,
  run: onOneApparatus((client, id) => client.fenceApparatus(id)),
};

export const apparatusRejoin: Command = {
  words: ["apparatus", "rejoin"],
  summary: "bring a fenced apparatus back: it loads the whole current table and serves again",
  help: `Usage: switchyard apparatus rejoin ID [--dir DIR | --endpoint HOST:PORT] [--output table|json|yaml]

Lifts a fence (an operator's or the controller's): the apparatus loads the
whole current configuration table, is registered with the device under a
new key, and serves again.

Options:
${clientOptionsHelp}

Example:
  switchyard apparatus rejoin a1`,
  run: onOneApparatus((client, id) => client.rejoinApparatus(id)),
};
