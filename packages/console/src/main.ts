/**
 * The `switchyard` command: finds the command named by the first words,
 * runs it, and turns what went wrong into one line and an exit code:
 * 0 done, 1 the operation failed, 2 bad usage.
 */
import type { Command } from "./command.js";
import { apparatusFence, apparatusList, apparatusRejoin } from "./commands/apparatus.js";
import { certCa, certClient, certList, certNode } from "./commands/cert.js";
import { changeList, changeShow, changeWatch, volumeMove, volumeResize } from "./commands/change.js";
import { clusterStatus, deviceList } from "./commands/cluster.js";
import { deviceAddExternal, deviceRemoveExternal } from "./commands/device.js";
import { migrate, migrateCancel } from "./commands/migrate.js";
import { completionCommand } from "./commands/completion.js";
import { coordinationExport, coordinationImport } from "./commands/coordination.js";
import { apparatusServe, deviceServe } from "./commands/serve.js";
import { up } from "./commands/up.js";
import { version } from "./commands/version.js";
import { volumeCreate, volumeDelete, volumeList, volumeShow } from "./commands/volume.js";
import type { Io } from "./output.js";
import { exitDone, exitFailed, exitUsage, failureLine } from "./failure.js";

export const commands: readonly Command[] = [
  up,
  clusterStatus,
  deviceList,
  deviceAddExternal,
  deviceRemoveExternal,
  volumeCreate,
  volumeList,
  volumeShow,
  volumeMove,
  volumeResize,
  volumeDelete,
  changeList,
  changeShow,
  changeWatch,
  // "migrate cancel" before "migrate": the first command whose words match wins.
  migrateCancel,
  migrate,
  apparatusList,
  apparatusFence,
  apparatusRejoin,
  deviceServe,
  apparatusServe,
  coordinationExport,
  coordinationImport,
  certCa,
  certNode,
  certClient,
  certList,
  version,
  // It completes this very list, read when it runs.
  completionCommand(() => commands),
];

export { exitDone, exitFailed, exitUsage };

function overview(among: readonly Command[]): string {
  const width = Math.max(...among.map((command) => command.words.join(" ").length));
  const lines = among.map((command) => `  ${command.words.join(" ").padEnd(width)}  ${command.summary}`);
  return `Usage: switchyard COMMAND [options]   (switchyard COMMAND --help for its options)

Switchyard serves virtual volumes over NBD through several virtualization
apparatuses, and changes which storage areas back them while hosts do I/O.

Commands:
${lines.join("\n")}

Example:
  switchyard up                       # in one terminal
  switchyard volume create vm1 --size 1GiB
  qemu-img info nbd://127.0.0.1:10809/vm1`;
}

function findCommand(among: readonly Command[], argv: readonly string[]): { command: Command; rest: readonly string[] } | undefined {
  for (const command of among) {
    if (command.words.every((word, index) => argv[index] === word)) return { command, rest: argv.slice(command.words.length) };
  }
  return undefined;
}

/** Runs the command `argv` names among `among` (another build passes its own: testing/cli.ts). */
export async function main(argv: readonly string[], io: Io, among: readonly Command[] = commands): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    (argv.length === 0 ? io.stderr : io.stdout).write(`${overview(among)}\n`);
    return argv.length === 0 ? exitUsage : exitDone;
  }
  // The habit of every other tool: --version is the version command.
  const found = findCommand(among, argv[0] === "--version" ? ["version", ...argv.slice(1)] : argv);
  if (found === undefined) {
    io.stderr.write(`switchyard: unknown command ${JSON.stringify(argv.join(" "))}; run 'switchyard --help' for the list\n`);
    return exitUsage;
  }
  if (found.rest.includes("--help") || found.rest.includes("-h")) {
    io.stdout.write(`${found.command.help}\n`);
    return exitDone;
  }
  try {
    return await found.command.run(found.rest, io);
  } catch (error) {
    const failure = failureLine(error);
    io.stderr.write(`switchyard ${found.command.words.join(" ")}: ${failure.line}\n`);
    return failure.code;
  }
}
