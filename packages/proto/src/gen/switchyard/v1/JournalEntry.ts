// Original file: proto/switchyard/v1/store.proto

import type { ChangeState as _switchyard_v1_ChangeState, ChangeState__Output as _switchyard_v1_ChangeState__Output } from '../../switchyard/v1/ChangeState.js';
import type { DifferenceTable as _switchyard_v1_DifferenceTable, DifferenceTable__Output as _switchyard_v1_DifferenceTable__Output } from '../../switchyard/v1/DifferenceTable.js';
import type { PhaseTiming as _switchyard_v1_PhaseTiming, PhaseTiming__Output as _switchyard_v1_PhaseTiming__Output } from '../../switchyard/v1/PhaseTiming.js';
import type { PhaseReport as _switchyard_v1_PhaseReport, PhaseReport__Output as _switchyard_v1_PhaseReport__Output } from '../../switchyard/v1/PhaseReport.js';
import type { CopyProgressRow as _switchyard_v1_CopyProgressRow, CopyProgressRow__Output as _switchyard_v1_CopyProgressRow__Output } from '../../switchyard/v1/CopyProgressRow.js';
import type { HoldMode as _switchyard_v1_HoldMode, HoldMode__Output as _switchyard_v1_HoldMode__Output } from '../../switchyard/v1/HoldMode.js';
import type { Long } from '@grpc/proto-loader';

export interface JournalEntry {
  'change_id'?: (string);
  'kind'?: (string);
  'summary'?: (string);
  'state'?: (_switchyard_v1_ChangeState);
  'base_generation'?: (number | string | Long);
  'epoch'?: (number | string | Long);
  'started_at_ms'?: (number | string | Long);
  'ended_at_ms'?: (number | string | Long);
  'diff'?: (_switchyard_v1_DifferenceTable | null);
  'message'?: (string);
  'phases'?: (_switchyard_v1_PhaseTiming)[];
  'reports'?: (_switchyard_v1_PhaseReport)[];
  /**
   * Apparatuses removed from the control range during the change (claim 3).
   */
  'fenced'?: (string)[];
  /**
   * A migration's copy progress table (claim 14), one row per extent it
   * moves, persisted as it goes: a new controller resumes from it.
   */
  'copy_progress'?: (_switchyard_v1_CopyProgressRow)[];
  /**
   * A migration's target LU and rate limit (0: none), to resume it as asked.
   */
  'target_lu_id'?: (string);
  'rate_bytes_per_second'?: (number | string | Long);
  /**
   * Bytes a migration moves in all; its rows' watermarks say how many are moved.
   */
  'total_bytes'?: (number | string | Long);
  /**
   * What its Hold held: HOLD_MODE_NONE for a mirror, switch or unmirror
   * whose every area is one device's, whose mirror took both faces' I/O
   * (nothing held); unspecified for a change with no Hold (a migration, an
   * event record).
   */
  'hold_mode'?: (_switchyard_v1_HoldMode);
}

export interface JournalEntry__Output {
  'change_id': (string);
  'kind': (string);
  'summary': (string);
  'state': (_switchyard_v1_ChangeState__Output);
  'base_generation': (number);
  'epoch': (number);
  'started_at_ms': (number);
  'ended_at_ms': (number);
  'diff': (_switchyard_v1_DifferenceTable__Output | null);
  'message': (string);
  'phases': (_switchyard_v1_PhaseTiming__Output)[];
  'reports': (_switchyard_v1_PhaseReport__Output)[];
  /**
   * Apparatuses removed from the control range during the change (claim 3).
   */
  'fenced': (string)[];
  /**
   * A migration's copy progress table (claim 14), one row per extent it
   * moves, persisted as it goes: a new controller resumes from it.
   */
  'copy_progress': (_switchyard_v1_CopyProgressRow__Output)[];
  /**
   * A migration's target LU and rate limit (0: none), to resume it as asked.
   */
  'target_lu_id': (string);
  'rate_bytes_per_second': (number);
  /**
   * Bytes a migration moves in all; its rows' watermarks say how many are moved.
   */
  'total_bytes': (number);
  /**
   * What its Hold held: HOLD_MODE_NONE for a mirror, switch or unmirror
   * whose every area is one device's, whose mirror took both faces' I/O
   * (nothing held); unspecified for a change with no Hold (a migration, an
   * event record).
   */
  'hold_mode': (_switchyard_v1_HoldMode__Output);
}
