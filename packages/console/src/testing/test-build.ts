/**
 * The test build of `switchyard`: every production command, except that
 * `up` and `apparatus serve` take test flags that compose their parts from
 * the `./testing` subpaths: `--test-fault F` builds every apparatus with
 * the planted bug F (@switchyard/apparatus/testing, or its NBD server's
 * request checks from @switchyard/nbd/testing), `--test-crash-at P` and
 * `--test-stop-at P` decorate the controller's change ports with a crash
 * point (@switchyard/controller/testing), and `up --test-disk-faults FILE`
 * keeps the device's files through a failing disk whose faults the test
 * writes into FILE while the process runs (@switchyard/device/testing). The flags are taken out of the
 * arguments here; the production command parses the rest as it always does.
 */
import { apparatusFaultBehaviours, apparatusFaultNamed, apparatusFaults, backendFaultNamed, backendFaults, faultyBackendSet } from "@switchyard/apparatus/testing";
import { crashPoints, crashPointsModule, type CrashPoint, type TestCrash } from "@switchyard/controller/testing";
import { nodeFiles } from "@switchyard/device";
import { ControlledDiskFaults } from "@switchyard/device/testing";
import { faultyRequestChecks, requestCheckFaultNamed, requestCheckFaults } from "@switchyard/nbd/testing";
import type { Command } from "../command.js";
import type { Composition } from "../composition.js";
import { apparatusServe, apparatusServeCommand } from "../commands/serve.js";
import { up, upCommand } from "../commands/up.js";
import { commands, main } from "../main.js";
import type { Io } from "../output.js";
import { UsageError } from "../usage.js";

type TestFlag = "test-fault" | "test-crash-at" | "test-stop-at" | "test-disk-faults";

/** Removes `--NAME VALUE` and `--NAME=VALUE` from `argv`; returns the value (the last, if repeated). */
function takeFlag(argv: string[], name: TestFlag): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < argv.length; ) {
    const argument = argv[index] ?? "";
    if (argument === `--${name}`) {
      value = argv[index + 1];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      argv.splice(index, 2);
    } else if (argument.startsWith(`--${name}=`)) {
      value = argument.slice(name.length + 3);
      argv.splice(index, 1);
    } else {
      index += 1;
    }
  }
  return value;
}

/**
 * Planted bugs of how the command is put together rather than of an
 * apparatus's behaviour. "nbd-tls-optional": hosts' NBD is served with TLS
 * on offer where `--nbd-tls require` was asked, so plain-text hosts get in.
 */
const compositionFaults = ["nbd-tls-optional"] as const;
const testFaultNames: readonly string[] = [...apparatusFaults, ...backendFaults, ...requestCheckFaults, ...compositionFaults];

/** `argv` as the composition fault `fault` has the command see it. */
function withCompositionFault(argv: readonly string[], fault: string | undefined): string[] {
  if (fault !== "nbd-tls-optional") return [...argv];
  return argv.map((argument, index) => {
    if (argument === "--nbd-tls=require") return "--nbd-tls=on";
    return argument === "require" && argv[index - 1] === "--nbd-tls" ? "on" : argument;
  });
}

function faultComposition(text: string | undefined): Composition {
  if (text === undefined || (compositionFaults as readonly string[]).includes(text)) return {};
  const backendFault = backendFaultNamed(text);
  if (backendFault !== undefined) return { apparatusBackends: (backends) => faultyBackendSet(backends, backendFault) };
  const requestCheckFault = requestCheckFaultNamed(text);
  if (requestCheckFault !== undefined) return { apparatusNbdRequestCheck: faultyRequestChecks[requestCheckFault] };
  const fault = apparatusFaultNamed(text);
  if (fault === undefined) throw new UsageError(`--test-fault must be one of ${testFaultNames.join(", ")}`);
  return { apparatusBehaviour: apparatusFaultBehaviours[fault] };
}

function diskFaultsComposition(controlPath: string | undefined): Composition {
  return controlPath === undefined ? {} : { deviceFiles: new ControlledDiskFaults(controlPath).decorate(nodeFiles) };
}

function crashPointNamed(text: string, option: string): CrashPoint {
  const point = crashPoints.find((candidate) => candidate === text);
  if (point === undefined) throw new UsageError(`${option} must be one of ${crashPoints.join(", ")}`);
  return point;
}

function crashComposition(killAt: string | undefined, stopAt: string | undefined): Composition {
  if (killAt !== undefined && stopAt !== undefined) throw new UsageError("give --test-crash-at or --test-stop-at, not both");
  let crash: TestCrash | undefined;
  if (killAt !== undefined) crash = { point: crashPointNamed(killAt, "--test-crash-at"), signal: "SIGKILL" };
  if (stopAt !== undefined) crash = { point: crashPointNamed(stopAt, "--test-stop-at"), signal: "SIGSTOP" };
  return crash === undefined ? {} : { changePortsModule: crashPointsModule(crash) };
}

const faultHelp = `  --test-fault F         plant a deliberate apparatus bug (${testFaultNames.join(", ")})
                         to test a checker; never for real data`;
const crashHelp = `  --test-crash-at P      if this apparatus's controller leads, kill this process (SIGKILL) at point P
                         of a change (${crashPoints.join(", ")}), to test failover
  --test-stop-at P       the same with SIGSTOP: the process pauses there until sent SIGCONT`;

/** `production` with the test flags `flags`, built by `build` with what they compose. */
function withTestFlags(production: Command, flags: readonly TestFlag[], help: string, build: (composition: Composition) => Command): Command {
  return {
    words: production.words,
    summary: production.summary,
    help: `${production.help}\n\nTest options (this test build only):\n${help}`,
    async run(argv, io) {
      const rest = [...argv];
      const taken = new Map(flags.map((name) => [name, takeFlag(rest, name)]));
      const composition: Composition = {
        ...faultComposition(taken.get("test-fault")),
        ...crashComposition(taken.get("test-crash-at"), taken.get("test-stop-at")),
        ...diskFaultsComposition(taken.get("test-disk-faults")),
      };
      return build(composition).run(withCompositionFault(rest, taken.get("test-fault")), io);
    },
  };
}

const diskFaultsHelp = `  --test-disk-faults FILE  keep the device's files through a failing disk: reads, writes or syncs
                         of the files FILE lists (JSON, DiskFault[]) fail with EIO or ENOSPC;
                         FILE is read again whenever it is replaced`;
const testUp = withTestFlags(up, ["test-fault", "test-disk-faults"], `${faultHelp}\n${diskFaultsHelp}`, upCommand);
const testApparatusServe = withTestFlags(apparatusServe, ["test-fault", "test-crash-at", "test-stop-at"], `${faultHelp}\n${crashHelp}`, apparatusServeCommand);

/** The production commands, `up` and `apparatus serve` taking the test flags. */
export const testBuildCommands: readonly Command[] = commands.map((command) => {
  if (command === up) return testUp;
  if (command === apparatusServe) return testApparatusServe;
  return command;
});

export function testBuildMain(argv: readonly string[], io: Io): Promise<number> {
  return main(argv, io, testBuildCommands);
}
