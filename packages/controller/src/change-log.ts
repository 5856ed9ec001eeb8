/**
 * The change log: one JSON line per phase of a change as the phase ends, and
 * one when the change starts and when it finishes, each with the change id,
 * so `grep move-7-` over a controller's log tells a change's story, and log
 * tools can sum phase durations. Lines go to stderr: stdout of `switchyard
 * up --json` is the endpoint document scripts parse.
 */
import { pino, type Logger } from "pino";
import type { ChangeRun } from "./change-run.js";

/** What the change executor logs to: pino's Logger satisfies it; tests pass a recorder. */
export interface ChangeLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

/**
 * Bytes of lines gathered before one write. A move logs seven lines, and
 * each write to the pipe behind stderr wakes its reader: written one by one
 * they were about a tenth of the controller thread's CPU under back-to-back
 * moves (pnpm bench:pause). Several changes' lines now go in one write.
 */
export const changeLogBufferBytes = 8 * 1024;
/** A gathered line is written within this long, so `grep move-7-` still follows a change as it goes. */
export const changeLogFlushIntervalMs = 100;

/**
 * The controller's logger: JSON lines on stderr, gathered for at most
 * changeLogFlushIntervalMs and written synchronously, and flushed when the
 * thread exits: a crash loses at most that much.
 */
export function controllerLogger(controllerId: string): Logger {
  return pino(
    { name: "switchyard-controller", base: { controller: controllerId, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    stderrDestination(),
  );
}

/** One destination per thread for every controller logger in it, so one exit listener flushes them all. */
let stderrLines: ReturnType<typeof pino.destination> | undefined;

function stderrDestination(): ReturnType<typeof pino.destination> {
  if (stderrLines !== undefined) return stderrLines;
  const destination = pino.destination({ fd: 2, sync: true, minLength: changeLogBufferBytes, periodicFlush: changeLogFlushIntervalMs });
  process.on("exit", () => {
    destination.flushSync();
  });
  stderrLines = destination;
  return destination;
}

/** Follows one change and logs each phase once, in order, as soon as it has ended. */
export class ChangePhaseLog {
  private readonly logger: ChangeLogger;
  private readonly run: ChangeRun;
  private readonly fields: Record<string, unknown>;
  private phasesLogged = 0;

  constructor(logger: ChangeLogger, run: ChangeRun, fields: { kind: string; summary: string; epoch: number; baseGeneration: number }) {
    this.logger = logger;
    this.run = run;
    this.fields = { change_id: run.changeId, kind: fields.kind, epoch: fields.epoch, base_generation: fields.baseGeneration };
    this.logger.info({ ...this.fields, event: "started", summary: fields.summary }, `change ${run.changeId} started: ${fields.summary}`);
  }

  /** Logs every phase that ended since the last call. */
  stepped(): void {
    for (let phase = this.run.phases[this.phasesLogged]; phase?.endedAtMs !== undefined; phase = this.run.phases[this.phasesLogged]) {
      const name = phase.phase;
      const reports = this.run.reports
        .filter((report) => report.phase === name)
        .map((report) => ({ apparatus: report.apparatusId, ok: report.ok, elapsed_ms: Math.round(report.elapsedMs), message: report.message }));
      const elapsedMs = Math.round(phase.endedAtMs - phase.startedAtMs);
      this.logger.info(
        { ...this.fields, event: "phase", phase: name, elapsed_ms: elapsedMs, reports, fenced: [...this.run.fenced] },
        `change ${this.run.changeId}: ${name} done in ${elapsedMs} ms`,
      );
      this.phasesLogged += 1;
    }
  }

  finished(outcome: string, message: string, elapsedMs: number): void {
    this.logger.info(
      { ...this.fields, event: "finished", outcome, message, elapsed_ms: Math.round(elapsedMs) },
      `change ${this.run.changeId} ${outcome}${message === "" ? "" : `: ${message}`}`,
    );
  }
}
