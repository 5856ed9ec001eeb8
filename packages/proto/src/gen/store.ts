import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AbortReport as _switchyard_v1_AbortReport, AbortReport__Output as _switchyard_v1_AbortReport__Output } from './switchyard/v1/AbortReport.js';
import type { AbortRequest as _switchyard_v1_AbortRequest, AbortRequest__Output as _switchyard_v1_AbortRequest__Output } from './switchyard/v1/AbortRequest.js';
import type { ApparatusClient as _switchyard_v1_ApparatusClient, ApparatusDefinition as _switchyard_v1_ApparatusDefinition } from './switchyard/v1/Apparatus.js';
import type { ApparatusRecord as _switchyard_v1_ApparatusRecord, ApparatusRecord__Output as _switchyard_v1_ApparatusRecord__Output } from './switchyard/v1/ApparatusRecord.js';
import type { ApparatusState as _switchyard_v1_ApparatusState, ApparatusState__Output as _switchyard_v1_ApparatusState__Output } from './switchyard/v1/ApparatusState.js';
import type { ApplyReport as _switchyard_v1_ApplyReport, ApplyReport__Output as _switchyard_v1_ApplyReport__Output } from './switchyard/v1/ApplyReport.js';
import type { ApplyRequest as _switchyard_v1_ApplyRequest, ApplyRequest__Output as _switchyard_v1_ApplyRequest__Output } from './switchyard/v1/ApplyRequest.js';
import type { ConfigurationTable as _switchyard_v1_ConfigurationTable, ConfigurationTable__Output as _switchyard_v1_ConfigurationTable__Output } from './switchyard/v1/ConfigurationTable.js';
import type { ControlFailure as _switchyard_v1_ControlFailure, ControlFailure__Output as _switchyard_v1_ControlFailure__Output } from './switchyard/v1/ControlFailure.js';
import type { ControlReply as _switchyard_v1_ControlReply, ControlReply__Output as _switchyard_v1_ControlReply__Output } from './switchyard/v1/ControlReply.js';
import type { ControlRequest as _switchyard_v1_ControlRequest, ControlRequest__Output as _switchyard_v1_ControlRequest__Output } from './switchyard/v1/ControlRequest.js';
import type { CopyProgressRow as _switchyard_v1_CopyProgressRow, CopyProgressRow__Output as _switchyard_v1_CopyProgressRow__Output } from './switchyard/v1/CopyProgressRow.js';
import type { DifferenceTable as _switchyard_v1_DifferenceTable, DifferenceTable__Output as _switchyard_v1_DifferenceTable__Output } from './switchyard/v1/DifferenceTable.js';
import type { ExtentColumns as _switchyard_v1_ExtentColumns, ExtentColumns__Output as _switchyard_v1_ExtentColumns__Output } from './switchyard/v1/ExtentColumns.js';
import type { ExtentRow as _switchyard_v1_ExtentRow, ExtentRow__Output as _switchyard_v1_ExtentRow__Output } from './switchyard/v1/ExtentRow.js';
import type { ExternalDevice as _switchyard_v1_ExternalDevice, ExternalDevice__Output as _switchyard_v1_ExternalDevice__Output } from './switchyard/v1/ExternalDevice.js';
import type { GetStateRequest as _switchyard_v1_GetStateRequest, GetStateRequest__Output as _switchyard_v1_GetStateRequest__Output } from './switchyard/v1/GetStateRequest.js';
import type { HoldInForce as _switchyard_v1_HoldInForce, HoldInForce__Output as _switchyard_v1_HoldInForce__Output } from './switchyard/v1/HoldInForce.js';
import type { HoldReport as _switchyard_v1_HoldReport, HoldReport__Output as _switchyard_v1_HoldReport__Output } from './switchyard/v1/HoldReport.js';
import type { HoldRequest as _switchyard_v1_HoldRequest, HoldRequest__Output as _switchyard_v1_HoldRequest__Output } from './switchyard/v1/HoldRequest.js';
import type { JournalEntry as _switchyard_v1_JournalEntry, JournalEntry__Output as _switchyard_v1_JournalEntry__Output } from './switchyard/v1/JournalEntry.js';
import type { LoadTableReport as _switchyard_v1_LoadTableReport, LoadTableReport__Output as _switchyard_v1_LoadTableReport__Output } from './switchyard/v1/LoadTableReport.js';
import type { LoadTableRequest as _switchyard_v1_LoadTableRequest, LoadTableRequest__Output as _switchyard_v1_LoadTableRequest__Output } from './switchyard/v1/LoadTableRequest.js';
import type { LogicalUnit as _switchyard_v1_LogicalUnit, LogicalUnit__Output as _switchyard_v1_LogicalUnit__Output } from './switchyard/v1/LogicalUnit.js';
import type { PhaseReport as _switchyard_v1_PhaseReport, PhaseReport__Output as _switchyard_v1_PhaseReport__Output } from './switchyard/v1/PhaseReport.js';
import type { PhaseTiming as _switchyard_v1_PhaseTiming, PhaseTiming__Output as _switchyard_v1_PhaseTiming__Output } from './switchyard/v1/PhaseTiming.js';
import type { RegisterReport as _switchyard_v1_RegisterReport, RegisterReport__Output as _switchyard_v1_RegisterReport__Output } from './switchyard/v1/RegisterReport.js';
import type { RegisterRequest as _switchyard_v1_RegisterRequest, RegisterRequest__Output as _switchyard_v1_RegisterRequest__Output } from './switchyard/v1/RegisterRequest.js';
import type { ReleaseReport as _switchyard_v1_ReleaseReport, ReleaseReport__Output as _switchyard_v1_ReleaseReport__Output } from './switchyard/v1/ReleaseReport.js';
import type { ReleaseRequest as _switchyard_v1_ReleaseRequest, ReleaseRequest__Output as _switchyard_v1_ReleaseRequest__Output } from './switchyard/v1/ReleaseRequest.js';
import type { StoreDelta as _switchyard_v1_StoreDelta, StoreDelta__Output as _switchyard_v1_StoreDelta__Output } from './switchyard/v1/StoreDelta.js';
import type { StoreState as _switchyard_v1_StoreState, StoreState__Output as _switchyard_v1_StoreState__Output } from './switchyard/v1/StoreState.js';
import type { VolumeRange as _switchyard_v1_VolumeRange, VolumeRange__Output as _switchyard_v1_VolumeRange__Output } from './switchyard/v1/VolumeRange.js';
import type { VolumeShape as _switchyard_v1_VolumeShape, VolumeShape__Output as _switchyard_v1_VolumeShape__Output } from './switchyard/v1/VolumeShape.js';
import type { VolumeTable as _switchyard_v1_VolumeTable, VolumeTable__Output as _switchyard_v1_VolumeTable__Output } from './switchyard/v1/VolumeTable.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  switchyard: {
    v1: {
      AbortReport: MessageTypeDefinition<_switchyard_v1_AbortReport, _switchyard_v1_AbortReport__Output>
      AbortRequest: MessageTypeDefinition<_switchyard_v1_AbortRequest, _switchyard_v1_AbortRequest__Output>
      Apparatus: SubtypeConstructor<typeof grpc.Client, _switchyard_v1_ApparatusClient> & { service: _switchyard_v1_ApparatusDefinition }
      ApparatusRecord: MessageTypeDefinition<_switchyard_v1_ApparatusRecord, _switchyard_v1_ApparatusRecord__Output>
      ApparatusState: MessageTypeDefinition<_switchyard_v1_ApparatusState, _switchyard_v1_ApparatusState__Output>
      ApparatusStatus: EnumTypeDefinition
      ApplyReport: MessageTypeDefinition<_switchyard_v1_ApplyReport, _switchyard_v1_ApplyReport__Output>
      ApplyRequest: MessageTypeDefinition<_switchyard_v1_ApplyRequest, _switchyard_v1_ApplyRequest__Output>
      ChangeState: EnumTypeDefinition
      ConfigurationTable: MessageTypeDefinition<_switchyard_v1_ConfigurationTable, _switchyard_v1_ConfigurationTable__Output>
      ControlFailure: MessageTypeDefinition<_switchyard_v1_ControlFailure, _switchyard_v1_ControlFailure__Output>
      ControlReply: MessageTypeDefinition<_switchyard_v1_ControlReply, _switchyard_v1_ControlReply__Output>
      ControlRequest: MessageTypeDefinition<_switchyard_v1_ControlRequest, _switchyard_v1_ControlRequest__Output>
      CopyProgressRow: MessageTypeDefinition<_switchyard_v1_CopyProgressRow, _switchyard_v1_CopyProgressRow__Output>
      DifferenceTable: MessageTypeDefinition<_switchyard_v1_DifferenceTable, _switchyard_v1_DifferenceTable__Output>
      ExtentColumns: MessageTypeDefinition<_switchyard_v1_ExtentColumns, _switchyard_v1_ExtentColumns__Output>
      ExtentRow: MessageTypeDefinition<_switchyard_v1_ExtentRow, _switchyard_v1_ExtentRow__Output>
      ExternalDevice: MessageTypeDefinition<_switchyard_v1_ExternalDevice, _switchyard_v1_ExternalDevice__Output>
      GetStateRequest: MessageTypeDefinition<_switchyard_v1_GetStateRequest, _switchyard_v1_GetStateRequest__Output>
      HoldInForce: MessageTypeDefinition<_switchyard_v1_HoldInForce, _switchyard_v1_HoldInForce__Output>
      HoldMode: EnumTypeDefinition
      HoldReport: MessageTypeDefinition<_switchyard_v1_HoldReport, _switchyard_v1_HoldReport__Output>
      HoldRequest: MessageTypeDefinition<_switchyard_v1_HoldRequest, _switchyard_v1_HoldRequest__Output>
      JournalEntry: MessageTypeDefinition<_switchyard_v1_JournalEntry, _switchyard_v1_JournalEntry__Output>
      LoadTableReport: MessageTypeDefinition<_switchyard_v1_LoadTableReport, _switchyard_v1_LoadTableReport__Output>
      LoadTableRequest: MessageTypeDefinition<_switchyard_v1_LoadTableRequest, _switchyard_v1_LoadTableRequest__Output>
      LogicalUnit: MessageTypeDefinition<_switchyard_v1_LogicalUnit, _switchyard_v1_LogicalUnit__Output>
      PhaseReport: MessageTypeDefinition<_switchyard_v1_PhaseReport, _switchyard_v1_PhaseReport__Output>
      PhaseTiming: MessageTypeDefinition<_switchyard_v1_PhaseTiming, _switchyard_v1_PhaseTiming__Output>
      RegisterReport: MessageTypeDefinition<_switchyard_v1_RegisterReport, _switchyard_v1_RegisterReport__Output>
      RegisterRequest: MessageTypeDefinition<_switchyard_v1_RegisterRequest, _switchyard_v1_RegisterRequest__Output>
      ReleaseReport: MessageTypeDefinition<_switchyard_v1_ReleaseReport, _switchyard_v1_ReleaseReport__Output>
      ReleaseRequest: MessageTypeDefinition<_switchyard_v1_ReleaseRequest, _switchyard_v1_ReleaseRequest__Output>
      StoreDelta: MessageTypeDefinition<_switchyard_v1_StoreDelta, _switchyard_v1_StoreDelta__Output>
      StoreState: MessageTypeDefinition<_switchyard_v1_StoreState, _switchyard_v1_StoreState__Output>
      VolumeRange: MessageTypeDefinition<_switchyard_v1_VolumeRange, _switchyard_v1_VolumeRange__Output>
      VolumeShape: MessageTypeDefinition<_switchyard_v1_VolumeShape, _switchyard_v1_VolumeShape__Output>
      VolumeTable: MessageTypeDefinition<_switchyard_v1_VolumeTable, _switchyard_v1_VolumeTable__Output>
    }
  }
}

