// Original file: proto/switchyard/v1/store.proto

import type { LogicalUnit as _switchyard_v1_LogicalUnit, LogicalUnit__Output as _switchyard_v1_LogicalUnit__Output } from '../../switchyard/v1/LogicalUnit.js';
import type { VolumeTable as _switchyard_v1_VolumeTable, VolumeTable__Output as _switchyard_v1_VolumeTable__Output } from '../../switchyard/v1/VolumeTable.js';
import type { JournalEntry as _switchyard_v1_JournalEntry, JournalEntry__Output as _switchyard_v1_JournalEntry__Output } from '../../switchyard/v1/JournalEntry.js';
import type { CopyProgressRow as _switchyard_v1_CopyProgressRow, CopyProgressRow__Output as _switchyard_v1_CopyProgressRow__Output } from '../../switchyard/v1/CopyProgressRow.js';
import type { ExternalDevice as _switchyard_v1_ExternalDevice, ExternalDevice__Output as _switchyard_v1_ExternalDevice__Output } from '../../switchyard/v1/ExternalDevice.js';
import type { ApparatusRecord as _switchyard_v1_ApparatusRecord, ApparatusRecord__Output as _switchyard_v1_ApparatusRecord__Output } from '../../switchyard/v1/ApparatusRecord.js';
import type { Long } from '@grpc/proto-loader';

export interface StoreState {
  'generation'?: (number | string | Long);
  'lus'?: (_switchyard_v1_LogicalUnit)[];
  'volumes'?: (_switchyard_v1_VolumeTable)[];
  'journal'?: (_switchyard_v1_JournalEntry)[];
  'copy_progress'?: (_switchyard_v1_CopyProgressRow)[];
  'external_devices'?: (_switchyard_v1_ExternalDevice)[];
  'apparatuses'?: (_switchyard_v1_ApparatusRecord)[];
  /**
   * Apparatuses an operator fenced (`switchyard apparatus fence`): no
   * controller takes them back until an operator rejoins them, across
   * restarts and failovers.
   */
  'fenced_by_operator'?: (string)[];
}

export interface StoreState__Output {
  'generation': (number);
  'lus': (_switchyard_v1_LogicalUnit__Output)[];
  'volumes': (_switchyard_v1_VolumeTable__Output)[];
  'journal': (_switchyard_v1_JournalEntry__Output)[];
  'copy_progress': (_switchyard_v1_CopyProgressRow__Output)[];
  'external_devices': (_switchyard_v1_ExternalDevice__Output)[];
  'apparatuses': (_switchyard_v1_ApparatusRecord__Output)[];
  /**
   * Apparatuses an operator fenced (`switchyard apparatus fence`): no
   * controller takes them back until an operator rejoins them, across
   * restarts and failovers.
   */
  'fenced_by_operator': (string)[];
}
