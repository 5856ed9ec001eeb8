/**
 * A conformance run: set up the apparatus under test (launched or already
 * running) with the suite as its controller and host, run the selected
 * cases one at a time with a reset between them, and hand each result to
 * the reporter as it comes. A case that needs a feature the features file
 * declares absent is skipped by declaration without being run; a case on
 * the expected-failures list that fails is an expected failure, and one
 * that passes fails the run.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { allCases, type ConformanceCase } from "./cases/index.js";
import { SuiteCertificates, suiteIdentities } from "./certificates.js";
import { SkipCase } from "./check.js";
import { CaseContext } from "./context.js";
import type { Features } from "./features.js";
import { launchApparatus, type LaunchedApparatus } from "./launch.js";
import type { SuiteOptions } from "./options.js";
import type { CaseResult, Outcome } from "./report.js";
import { startSuiteDevice, type SuiteDevice } from "./suite-device.js";
import { SuiteController, callTimeoutMs } from "./suite-controller.js";
import { callUnary, deadlineAfter, type ApparatusState__Output } from "@switchyard/proto";

/** A case that runs longer than this has hung: every wait inside one is far shorter (the hold deadline's included). */
export const caseTimeoutMs = 40_000;
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

/** What the run is checked against: the declared features and the known failures. */
export interface RunDeclarations {
  readonly features: Features;
  readonly expectedFailures: ReadonlySet<string>;
}

/** Everything a run started, stopped in reverse order whatever happens. */
interface Started {
  certificates?: SuiteCertificates;
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

function controllerFor(deviceAddress: string, apparatusAddress: string, certificates: SuiteCertificates | undefined): SuiteController {
  return new SuiteController(deviceAddress, apparatusAddress, certificates?.channel(suiteIdentities.controller));
}

async function setUp(options: SuiteOptions, features: Features, started: Started): Promise<CaseContext> {
  const target = options.target;
  if (options.tls) started.certificates = await SuiteCertificates.prepare(options.certDir);
  const certificates = started.certificates;
  const setting = { disk: undefined, writeDelayMs: options.writeDelayMs, certificates, features };
  if (target.kind === "running") {
    const controller = controllerFor(target.deviceAddress, target.grpcAddress, certificates);
    started.context = await CaseContext.open(controller, target.nbdAddress, setting);
    return started.context;
  }
  if (target.deviceAddress === undefined) started.device = await startSuiteDevice(host, certificates?.folder(suiteIdentities.device));
  const deviceAddress = target.deviceAddress ?? started.device?.grpcAddress ?? "";
  started.launched = await launchApparatus(target.command, host, deviceAddress, certificates?.folder(suiteIdentities.underTest) ?? "");
  const controller = controllerFor(deviceAddress, started.launched.grpcAddress, certificates);
  await waitUntilReady(controller, started.launched);
  started.context = await CaseContext.open(controller, started.launched.nbdAddress, { ...setting, disk: started.device?.disk });
  return started.context;
}

async function tearDown(started: Started): Promise<void> {
  await started.context?.close().catch(() => undefined);
  await started.launched?.stop();
  await started.device?.close();
  await started.certificates?.remove();
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

/** The features `conformanceCase` needs that the file declares absent. */
export function missingFeatures(conformanceCase: ConformanceCase, features: Features): string[] {
  return (conformanceCase.needs ?? []).filter((feature) => !features.declared.has(feature));
}

/** A case's outcome once run: the expected-failures list turns a failure into an expected one, and a pass into a failure. */
function judged(passed: boolean, listed: boolean): Outcome {
  if (listed) return passed ? "unexpected-pass" : "expected-failure";
  return passed ? "passed" : "failed";
}

async function runCase(context: CaseContext, conformanceCase: ConformanceCase, declarations: RunDeclarations): Promise<CaseResult> {
  const startedAtMs = performance.now();
  const base = { id: conformanceCase.id, title: conformanceCase.title, checks: conformanceCase.checks };
  const missing = missingFeatures(conformanceCase, declarations.features);
  if (missing.length > 0) return { ...base, outcome: "skipped", message: `by declaration: ${missing.join(", ")} declared absent`, durationMs: 0 };
  const listed = declarations.expectedFailures.has(conformanceCase.id);
  try {
    await withTimeout(context.reset().then(() => conformanceCase.run(context)), caseTimeoutMs);
    const outcome = judged(true, listed);
    const message = outcome === "unexpected-pass" ? "passed, but the expected-failures list names it: remove it from the list" : "";
    return { ...base, outcome, message, durationMs: performance.now() - startedAtMs };
  } catch (error) {
    if (error instanceof SkipCase) return { ...base, outcome: "skipped", message: error.message, durationMs: performance.now() - startedAtMs };
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, outcome: judged(false, listed), message, durationMs: performance.now() - startedAtMs };
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
export async function runConformance(options: SuiteOptions, cases: readonly ConformanceCase[], declarations: RunDeclarations, hooks: RunHooks): Promise<CaseResult[]> {
  const started: Started = {};
  try {
    let context: CaseContext;
    try {
      context = await setUp(options, declarations.features, started);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new SetupError(`setup failed: ${message}`, { cause: error });
    }
    const results: CaseResult[] = [];
    for (const [index, conformanceCase] of cases.entries()) {
      const result = await runCase(context, conformanceCase, declarations);
      results.push(result);
      hooks.onResult(result, index);
    }
    return results;
  } finally {
    await tearDown(started);
  }
}
