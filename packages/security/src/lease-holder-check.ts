/**
 * Epochs bound to the certificate they were granted to (issue 17: "Apparatus
 * methods only from an apparatus that holds the lease"). A role check lets
 * any apparatus certificate through, and epochs are small integers anyone
 * can guess: without this, a peer apparatus could send a table, a hold or a
 * store write under the holder's epoch. An epoch names one holder for ever
 * (the arbiter and etcd both give every new holder a new one), so a server
 * learns the holder of the newest epoch once, from whoever grants them (the
 * `lookup`), and from then on checks each call's certificate id against it.
 *
 * Only the binding is checked here; whether the epoch is current stays with
 * the handler, which refuses a stale one as before (FAILED_PRECONDITION).
 * An older epoch whose holder was never learnt is passed on too: the server
 * takes `newestEpoch` as its floor, so its handler refuses it as stale.
 */
import * as grpc from "@grpc/grpc-js";
import type { Identity } from "./identity.js";

/** The holder of an epoch, as the one who grants epochs tells it. */
export interface EpochHolder {
  readonly holderId: string;
  readonly epoch: number;
}

/** Asks who holds the newest epoch; undefined when none is granted. Rejects when it cannot tell. */
export type EpochHolderLookup = () => Promise<EpochHolder | undefined>;

function refused(code: grpc.status, details: string): grpc.StatusObject {
  return { code, details, metadata: new grpc.Metadata() };
}

/** Bindings kept: older epochs belong to controllers long deposed. */
export const epochBindingsKept = 16;

export class LeaseHolderCheck {
  /** Holders of the epochs learnt, newest last. */
  private readonly holders = new Map<number, string>();
  private newestEpochLearnt = 0;
  /** One lookup at a time: calls under a new epoch arriving together share it. */
  private asking: Promise<EpochHolder | undefined> | undefined;

  constructor(private readonly lookup: EpochHolderLookup) {}

  /** The newest epoch the granter named (0 before any): every epoch below it belongs to a deposed holder. */
  get newestEpoch(): number {
    return this.newestEpochLearnt;
  }

  /** Records a binding learnt elsewhere (one the lookup would give). */
  learn(holder: EpochHolder | undefined): void {
    if (holder === undefined || holder.epoch <= 0 || this.holders.has(holder.epoch)) return;
    this.holders.set(holder.epoch, holder.holderId);
    this.newestEpochLearnt = Math.max(this.newestEpochLearnt, holder.epoch);
    for (const epoch of this.holders.keys()) {
      if (this.holders.size <= epochBindingsKept) break;
      this.holders.delete(epoch);
    }
  }

  /**
   * Why `identity` may not act under `epoch` in `method`, as the status the
   * caller gets; undefined when it holds that epoch, when the epoch is older
   * than the newest and its holder unknown (the handler refuses it as
   * stale), or when `epoch` is not an epoch at all (the handler's range
   * check refuses it). Never rejects.
   */
  async refusal(method: string, identity: Identity, epoch: unknown): Promise<grpc.StatusObject | undefined> {
    if (typeof epoch !== "number" || !Number.isSafeInteger(epoch) || epoch <= 0) return undefined;
    if (epoch > this.newestEpochLearnt) {
      try {
        this.learn(await this.ask());
      } catch (error) {
        return refused(grpc.status.UNAVAILABLE, `${method}: cannot confirm who holds epoch ${epoch}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const holderId = this.holders.get(epoch);
    if (holderId === identity.id) return undefined;
    if (holderId !== undefined) {
      return refused(grpc.status.PERMISSION_DENIED, `${method} under epoch ${epoch} must come from ${holderId}, which holds it; the caller is ${identity.role} ${identity.id}`);
    }
    if (epoch < this.newestEpochLearnt) return undefined;
    const newest = this.newestEpochLearnt === 0 ? "none is granted" : `the newest is ${this.newestEpochLearnt}`;
    return refused(grpc.status.FAILED_PRECONDITION, `${method}: epoch ${epoch} was never granted (${newest}); acquire the lease first`);
  }

  private ask(): Promise<EpochHolder | undefined> {
    this.asking ??= this.lookup().finally(() => {
      this.asking = undefined;
    });
    return this.asking;
  }
}
