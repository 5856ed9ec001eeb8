/**
 * A conformance run: set up the apparatus under test (launched or already
 * running) with the suite as its controller and host, run the selected
 * cases one at a time with a reset between them, and hand each result to
 * the reporter as it comes.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { allCases, type ConformanceCase } from "./cases/index.js";
import { CaseContext } from "./context.js";
import { launchApparatus, type LaunchedApparatus } from "./launch.js";
import type { SuiteOptions } from "./options.js";
import type { CaseResult } from "./report.js";
import { startSuiteDevice, type SuiteDevice } from "./suite-device.js";
import { SuiteController, callTimeoutMs } from "./suite-controller.js";
import { callUnary, deadlineAfter, type ApparatusState__Output } from "@switchyard/proto";

/** A case that runs longer than this has hung: every wait inside one is far shorter. */
export const caseTimeoutMs = 30_000;
/** A launched apparatus must answer GetState within this: a Node process start on a loaded machine. */
const readyTimeoutMs = 30_000;
const readyPollMs = 100;
/** Only loopback: the suite's own device and launched apparatuses listen here. */
const host = "127.0.0.1";

export function selectCases(only: RegExp | undefined): readonly ConformanceCase[] {
  return only === undefined ? allCases : allCases.filter((candidate) => only.test(candidate.id));
}

export interface RunHooks {
  onResult(result: CaseResult, index: number): void;
}

/** Everything a run started, stopped in reverse order whatever happens. */
interface Started {
  device?: SuiteDevice;
  launched?: LaunchedApparatus;
  context?: CaseContext;
}

async function waitUntilReady(controller: SuiteController, launched: LaunchedApparatus): Promise<void> {
  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    try {
      await callUnary<ApparatusState__Output>((done) => controller.apparatus.GetState({}, { deadline: deadlineAfter(callTimeoutMs) }, done));
      return;
    } catch (error) {
      const exited = launched.exitStatus();
      if (exited !== undefined) throw new Error(`the launched apparatus ended (${exited}) before it answered GetState: ${launched.output().trim()}`, { cause: error });
      if (performance.now() > deadline) throw new Error(`the launched apparatus did not answer GetState at ${launched.grpcAddress} within ${readyTimeoutMs} ms`, { cause: error });
      await sleep(readyPollMs);
    }
  }
}

async function setUp(options: SuiteOptions, started: Started): Promise<CaseContext> {
  const target = options.target;
  if (target.kind === "running") {
    const controller = new SuiteController(target.deviceAddress, target.grpcAddress);
    started.context = await CaseContext.open(controller, target.nbdAddress, undefined, options.writeDelayMs);
    return started.context;
  }
  if (target.deviceAddress === undefined) started.device = await startSuiteDevice(host);
  const deviceAddress = target.deviceAddress ?? started.device?.grpcAddress ?? "";
  started.launched = await launchApparatus(target.command, host, deviceAddress);
  const controller = new SuiteController(deviceAddress, started.launched.grpcAddress);
  await waitUntilReady(controller, started.launched);
  started.context = await CaseContext.open(controller, started.launched.nbdAddress, started.device?.disk, options.writeDelayMs);
  return started.context;
}

async function tearDown(started: Started): Promise<void> {
  await started.context?.close().catch(() => undefined);
  await started.launched?.stop();
  await started.device?.close();
}

function withTimeout(work: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`the case did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

async function runCase(context: CaseContext, conformanceCase: ConformanceCase): Promise<CaseResult> {
  const startedAtMs = performance.now();
  const base = { id: conformanceCase.id, title: conformanceCase.title, checks: conformanceCase.checks };
  try {
    await withTimeout(context.reset().then(() => conformanceCase.run(context)), caseTimeoutMs);
    return { ...base, passed: true, message: "", durationMs: performance.now() - startedAtMs };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, passed: false, message, durationMs: performance.now() - startedAtMs };
  }
}

export class SetupError extends Error {
  readonly code = "SETUP_FAILED";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SetupError";
  }
}

/** Runs `cases` against the target; a failure to set up is a SetupError (nothing was checked). */
export async function runConformance(options: SuiteOptions, cases: readonly ConformanceCase[], hooks: RunHooks): Promise<CaseResult[]> {
  const started: Started = {};
  try {
    let context: CaseContext;
    try {
      context = await setUp(options, started);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new SetupError(`setup failed: ${message}`, { cause: error });
    }
    const results: CaseResult[] = [];
    for (const [index, conformanceCase] of cases.entries()) {
      const result = await runCase(context, conformanceCase);
      results.push(result);
      hooks.onResult(result, index);
    }
    return results;
  } finally {
    await tearDown(started);
  }
}
