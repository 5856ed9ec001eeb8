/**
 * The one delta applier (proto's store-delta.ts) with the device's errors:
 * a delta that can never apply is INVALID_ARGUMENT, one based on another
 * generation is STALE_GENERATION, as the Device service has always answered.
 */
import { applyStoreDelta, checkStoreDelta as checkDelta, StoreDeltaError, type StoreDelta__Output, type StoreState__Output } from "@switchyard/proto";
import { InvalidArgumentError, StaleGenerationError, type DeviceError } from "./errors.js";

export { applyStoreDelta };

/** Throws a DeviceError (changing nothing) unless `delta` applies to `state`. */
export function checkStoreDelta(state: StoreState__Output, delta: StoreDelta__Output): void {
  try {
    checkDelta(state, delta);
  } catch (error) {
    if (error instanceof StoreDeltaError) throw deviceErrorOf(error);
    throw error;
  }
}

function deviceErrorOf(error: StoreDeltaError): DeviceError {
  switch (error.code) {
    case "INVALID_ARGUMENT":
      return new InvalidArgumentError(error.message, { cause: error });
    case "STALE_GENERATION":
      return new StaleGenerationError(error.baseGeneration, error.storedGeneration);
    default: {
      const unhandled: never = error.code;
      throw new Error(`no device error for store delta code ${String(unhandled)}`);
    }
  }
}
