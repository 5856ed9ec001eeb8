/**
 * Apparatuses leaving and coming back outside any change: an operator's
 * fence (`apparatus fence`), a rejoin (`apparatus rejoin`, or automatic once
 * a fenced one answers its probes), and the restore of one that stopped
 * serving on its own (its lease ran out, or a hold passed its deadline).
 * Each runs in its turn among the controller's table operations and notes
 * an event for the journal (event-records.ts).
 */
import type { RecordedEventKind } from "./event-records.js";
import { ControllerError } from "./errors.js";
import type { Warn } from "./environment.js";
import type { Membership } from "./membership.js";
import type { TableKeeper } from "./table-keeper.js";

/** What of the membership a rejoin uses. */
export type RejoinMembers = Pick<Membership, "named" | "isFenced" | "isOperatorFenced" | "operatorFence" | "fence" | "rejoin" | "takeVolumesShut">;

export interface RejoinsOptions {
  readonly members: RejoinMembers;
  readonly table: Pick<TableKeeper, "read" | "write">;
  /** Runs `work` in its turn among the controller's table operations. */
  readonly serialized: <T>(work: () => Promise<T>) => Promise<T>;
  /** The epoch this controller acts under, or NOT_CONTROLLER. */
  readonly epoch: () => number;
  /** Records an event in the journal with the controller's next writes. */
  readonly note: (kind: RecordedEventKind, subject: string, cause: string) => void;
  readonly warn: Warn;
}

export class Rejoins {
  constructor(private readonly options: RejoinsOptions) {}

  /**
   * `apparatus fence`: an operator takes an apparatus out of the control
   * range (claim 3's fence, by hand): the device refuses its I/O at once, and
   * the store remembers, so no controller takes it back until `apparatus
   * rejoin`, across restarts and failovers.
   */
  fenceByOperator(apparatusId: string): Promise<void> {
    const { members, serialized, epoch, note } = this.options;
    return serialized(async () => {
      const { id } = members.named(apparatusId);
      if (members.isOperatorFenced(id)) {
        throw new ControllerError("FAILED_PRECONDITION", `apparatus ${id} is fenced already; 'switchyard apparatus rejoin ${id}' takes it back`);
      }
      await this.recordOperatorFence(id, true);
      await members.fence(id, epoch());
      note("fence", id, `${id} was fenced by an operator ('switchyard apparatus fence'); 'switchyard apparatus rejoin ${id}' takes it back`);
    });
  }

  /** A fenced apparatus rejoins by loading the whole current table; an operator's fence is lifted first. */
  rejoin(apparatusId: string): Promise<void> {
    const { members, table, serialized, epoch, note } = this.options;
    return serialized(async () => {
      const { id } = members.named(apparatusId);
      if (!members.isFenced(id)) throw new ControllerError("FAILED_PRECONDITION", `apparatus ${id} is not fenced: there is nothing to rejoin`);
      const byOperator = members.isOperatorFenced(id);
      if (byOperator) await this.recordOperatorFence(id, false);
      this.noteHoldsExpired(id);
      const { state } = await table.read({ omitJournal: true });
      await members.rejoin(id, state, epoch());
      note("rejoin", id, `${id} loaded the whole table at generation ${state.generation} and serves again${byOperator ? " (an operator's rejoin lifted its fence)" : ""}`);
    });
  }

  /**
   * An apparatus in the range that stopped serving on its own (its lease ran
   * out, or a hold passed its deadline) loads the table and registers again,
   * in its turn among changes; one that cannot is fenced.
   */
  restore(apparatusId: string): Promise<void> {
    const { members, table, serialized, note, warn } = this.options;
    return serialized(async () => {
      const epoch = this.options.epoch();
      warn(`apparatus ${apparatusId} stopped serving on its own: it loads the table again`);
      this.noteHoldsExpired(apparatusId);
      const { state } = await table.read({ omitJournal: true });
      try {
        await members.rejoin(apparatusId, state, epoch);
        note("rejoin", apparatusId, `${apparatusId} stopped serving on its own (its lease ran out, or a hold passed its deadline) and loaded the table at generation ${state.generation} again`);
      } catch (error) {
        warn(`apparatus ${apparatusId} could not load the table, so it is fenced: ${String(error)}`);
        await members.fence(apparatusId, epoch);
        note("fence", apparatusId, `${apparatusId} stopped serving on its own and could not load the table: ${String(error)}`);
      }
    }).catch((error: unknown) => {
      warn(`apparatus ${apparatusId} could not be restored: ${String(error)}`);
    });
  }

  /** An apparatus taken back (here, or by a takeover's whole table) that said it shut volumes at a hold's deadline: the expired hold is an event. */
  noteHoldsExpired(apparatusId: string): void {
    const shut = this.options.members.takeVolumesShut(apparatusId);
    if (shut.length === 0) return;
    this.options.note("hold-expired", apparatusId, `a hold on ${apparatusId} passed its deadline with no Release: it shut ${shut.join(", ")} until the controller loaded the table`);
  }

  /** Records in the store whether an operator fenced the apparatus; it writes the whole state, so it reads it whole. */
  private async recordOperatorFence(apparatusId: string, fenced: boolean): Promise<void> {
    const { table, members } = this.options;
    const { state, sequence } = await table.read();
    const others = state.fenced_by_operator.filter((candidate) => candidate !== apparatusId);
    await table.write({ ...state, fenced_by_operator: fenced ? [...others, apparatusId] : others }, sequence);
    members.operatorFence(apparatusId, fenced);
  }
}
