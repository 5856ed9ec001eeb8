import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ApparatusRecord as _switchyard_v1_ApparatusRecord, ApparatusRecord__Output as _switchyard_v1_ApparatusRecord__Output } from './switchyard/v1/ApparatusRecord.js';
import type { ConfigurationTable as _switchyard_v1_ConfigurationTable, ConfigurationTable__Output as _switchyard_v1_ConfigurationTable__Output } from './switchyard/v1/ConfigurationTable.js';
import type { CopyProgressRow as _switchyard_v1_CopyProgressRow, CopyProgressRow__Output as _switchyard_v1_CopyProgressRow__Output } from './switchyard/v1/CopyProgressRow.js';
import type { DifferenceTable as _switchyard_v1_DifferenceTable, DifferenceTable__Output as _switchyard_v1_DifferenceTable__Output } from './switchyard/v1/DifferenceTable.js';
import type { ExtentColumns as _switchyard_v1_ExtentColumns, ExtentColumns__Output as _switchyard_v1_ExtentColumns__Output } from './switchyard/v1/ExtentColumns.js';
import type { ExtentRow as _switchyard_v1_ExtentRow, ExtentRow__Output as _switchyard_v1_ExtentRow__Output } from './switchyard/v1/ExtentRow.js';
import type { ExternalDevice as _switchyard_v1_ExternalDevice, ExternalDevice__Output as _switchyard_v1_ExternalDevice__Output } from './switchyard/v1/ExternalDevice.js';
import type { JournalEntry as _switchyard_v1_JournalEntry, JournalEntry__Output as _switchyard_v1_JournalEntry__Output } from './switchyard/v1/JournalEntry.js';
import type { LogicalUnit as _switchyard_v1_LogicalUnit, LogicalUnit__Output as _switchyard_v1_LogicalUnit__Output } from './switchyard/v1/LogicalUnit.js';
import type { PhaseReport as _switchyard_v1_PhaseReport, PhaseReport__Output as _switchyard_v1_PhaseReport__Output } from './switchyard/v1/PhaseReport.js';
import type { PhaseTiming as _switchyard_v1_PhaseTiming, PhaseTiming__Output as _switchyard_v1_PhaseTiming__Output } from './switchyard/v1/PhaseTiming.js';
import type { StoreDelta as _switchyard_v1_StoreDelta, StoreDelta__Output as _switchyard_v1_StoreDelta__Output } from './switchyard/v1/StoreDelta.js';
import type { StoreState as _switchyard_v1_StoreState, StoreState__Output as _switchyard_v1_StoreState__Output } from './switchyard/v1/StoreState.js';
import type { VolumeShape as _switchyard_v1_VolumeShape, VolumeShape__Output as _switchyard_v1_VolumeShape__Output } from './switchyard/v1/VolumeShape.js';
import type { VolumeTable as _switchyard_v1_VolumeTable, VolumeTable__Output as _switchyard_v1_VolumeTable__Output } from './switchyard/v1/VolumeTable.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  switchyard: {
    v1: {
      ApparatusRecord: MessageTypeDefinition<_switchyard_v1_ApparatusRecord, _switchyard_v1_ApparatusRecord__Output>
      ChangeState: EnumTypeDefinition
      ConfigurationTable: MessageTypeDefinition<_switchyard_v1_ConfigurationTable, _switchyard_v1_ConfigurationTable__Output>
      CopyProgressRow: MessageTypeDefinition<_switchyard_v1_CopyProgressRow, _switchyard_v1_CopyProgressRow__Output>
      DifferenceTable: MessageTypeDefinition<_switchyard_v1_DifferenceTable, _switchyard_v1_DifferenceTable__Output>
      ExtentColumns: MessageTypeDefinition<_switchyard_v1_ExtentColumns, _switchyard_v1_ExtentColumns__Output>
      ExtentRow: MessageTypeDefinition<_switchyard_v1_ExtentRow, _switchyard_v1_ExtentRow__Output>
      ExternalDevice: MessageTypeDefinition<_switchyard_v1_ExternalDevice, _switchyard_v1_ExternalDevice__Output>
      JournalEntry: MessageTypeDefinition<_switchyard_v1_JournalEntry, _switchyard_v1_JournalEntry__Output>
      LogicalUnit: MessageTypeDefinition<_switchyard_v1_LogicalUnit, _switchyard_v1_LogicalUnit__Output>
      PhaseReport: MessageTypeDefinition<_switchyard_v1_PhaseReport, _switchyard_v1_PhaseReport__Output>
      PhaseTiming: MessageTypeDefinition<_switchyard_v1_PhaseTiming, _switchyard_v1_PhaseTiming__Output>
      StoreDelta: MessageTypeDefinition<_switchyard_v1_StoreDelta, _switchyard_v1_StoreDelta__Output>
      StoreState: MessageTypeDefinition<_switchyard_v1_StoreState, _switchyard_v1_StoreState__Output>
      VolumeShape: MessageTypeDefinition<_switchyard_v1_VolumeShape, _switchyard_v1_VolumeShape__Output>
      VolumeTable: MessageTypeDefinition<_switchyard_v1_VolumeTable, _switchyard_v1_VolumeTable__Output>
    }
  }
}

