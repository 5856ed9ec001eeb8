// Original file: proto/switchyard/v1/controller.proto

import type { ChangeState as _switchyard_v1_ChangeState, ChangeState__Output as _switchyard_v1_ChangeState__Output } from '../../switchyard/v1/ChangeState.js';
import type { PhaseTiming as _switchyard_v1_PhaseTiming, PhaseTiming__Output as _switchyard_v1_PhaseTiming__Output } from '../../switchyard/v1/PhaseTiming.js';
import type { PhaseReport as _switchyard_v1_PhaseReport, PhaseReport__Output as _switchyard_v1_PhaseReport__Output } from '../../switchyard/v1/PhaseReport.js';
import type { CopyProgressRow as _switchyard_v1_CopyProgressRow, CopyProgressRow__Output as _switchyard_v1_CopyProgressRow__Output } from '../../switchyard/v1/CopyProgressRow.js';
import type { HoldMode as _switchyard_v1_HoldMode, HoldMode__Output as _switchyard_v1_HoldMode__Output } from '../../switchyard/v1/HoldMode.js';
import type { Long } from '@grpc/proto-loader';

export interface ChangeInfo {
  'id'?: (string);
  'kind'?: (string);
  'summary'?: (string);
  'state'?: (_switchyard_v1_ChangeState);
  'base_generation'?: (number | string | Long);
  'epoch'?: (number | string | Long);
  'started_at_ms'?: (number | string | Long);
  'ended_at_ms'?: (number | string | Long);
  'phases'?: (_switchyard_v1_PhaseTiming)[];
  'reports'?: (_switchyard_v1_PhaseReport)[];
  'fenced'?: (string)[];
  'copy_progress'?: (_switchyard_v1_CopyProgressRow)[];
  'message'?: (string);
  'copied_bytes'?: (number | string | Long);
  'total_bytes'?: (number | string | Long);
  /**
   * Of copied_bytes, those that were holes on both sides: nothing written.
   */
  'hole_bytes_skipped'?: (number | string | Long);
  /**
   * What its Hold held (JournalEntry.hold_mode).
   */
  'hold_mode'?: (_switchyard_v1_HoldMode);
  /**
   * Chunk copies beyond the first, over its rows (CopyProgressRow.chunks_copied_again).
   */
  'chunks_copied_again'?: (number | string | Long);
}

export interface ChangeInfo__Output {
  'id': (string);
  'kind': (string);
  'summary': (string);
  'state': (_switchyard_v1_ChangeState__Output);
  'base_generation': (number);
  'epoch': (number);
  'started_at_ms': (number);
  'ended_at_ms': (number);
  'phases': (_switchyard_v1_PhaseTiming__Output)[];
  'reports': (_switchyard_v1_PhaseReport__Output)[];
  'fenced': (string)[];
  'copy_progress': (_switchyard_v1_CopyProgressRow__Output)[];
  'message': (string);
  'copied_bytes': (number);
  'total_bytes': (number);
  /**
   * Of copied_bytes, those that were holes on both sides: nothing written.
   */
  'hole_bytes_skipped': (number);
  /**
   * What its Hold held (JournalEntry.hold_mode).
   */
  'hold_mode': (_switchyard_v1_HoldMode__Output);
  /**
   * Chunk copies beyond the first, over its rows (CopyProgressRow.chunks_copied_again).
   */
  'chunks_copied_again': (number);
}
