import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AbortReport as _switchyard_v1_AbortReport, AbortReport__Output as _switchyard_v1_AbortReport__Output } from './switchyard/v1/AbortReport.js';
import type { AbortRequest as _switchyard_v1_AbortRequest, AbortRequest__Output as _switchyard_v1_AbortRequest__Output } from './switchyard/v1/AbortRequest.js';
import type { AcquireLeaseRequest as _switchyard_v1_AcquireLeaseRequest, AcquireLeaseRequest__Output as _switchyard_v1_AcquireLeaseRequest__Output } from './switchyard/v1/AcquireLeaseRequest.js';
import type { ApparatusClient as _switchyard_v1_ApparatusClient, ApparatusDefinition as _switchyard_v1_ApparatusDefinition } from './switchyard/v1/Apparatus.js';
import type { ApparatusRecord as _switchyard_v1_ApparatusRecord, ApparatusRecord__Output as _switchyard_v1_ApparatusRecord__Output } from './switchyard/v1/ApparatusRecord.js';
import type { ApparatusState as _switchyard_v1_ApparatusState, ApparatusState__Output as _switchyard_v1_ApparatusState__Output } from './switchyard/v1/ApparatusState.js';
import type { ApplyReport as _switchyard_v1_ApplyReport, ApplyReport__Output as _switchyard_v1_ApplyReport__Output } from './switchyard/v1/ApplyReport.js';
import type { ApplyRequest as _switchyard_v1_ApplyRequest, ApplyRequest__Output as _switchyard_v1_ApplyRequest__Output } from './switchyard/v1/ApplyRequest.js';
import type { CommitDeltaRequest as _switchyard_v1_CommitDeltaRequest, CommitDeltaRequest__Output as _switchyard_v1_CommitDeltaRequest__Output } from './switchyard/v1/CommitDeltaRequest.js';
import type { ConfigurationTable as _switchyard_v1_ConfigurationTable, ConfigurationTable__Output as _switchyard_v1_ConfigurationTable__Output } from './switchyard/v1/ConfigurationTable.js';
import type { ControlFailure as _switchyard_v1_ControlFailure, ControlFailure__Output as _switchyard_v1_ControlFailure__Output } from './switchyard/v1/ControlFailure.js';
import type { ControlReply as _switchyard_v1_ControlReply, ControlReply__Output as _switchyard_v1_ControlReply__Output } from './switchyard/v1/ControlReply.js';
import type { ControlRequest as _switchyard_v1_ControlRequest, ControlRequest__Output as _switchyard_v1_ControlRequest__Output } from './switchyard/v1/ControlRequest.js';
import type { CopyProgressRow as _switchyard_v1_CopyProgressRow, CopyProgressRow__Output as _switchyard_v1_CopyProgressRow__Output } from './switchyard/v1/CopyProgressRow.js';
import type { DeviceClient as _switchyard_v1_DeviceClient, DeviceDefinition as _switchyard_v1_DeviceDefinition } from './switchyard/v1/Device.js';
import type { DifferenceTable as _switchyard_v1_DifferenceTable, DifferenceTable__Output as _switchyard_v1_DifferenceTable__Output } from './switchyard/v1/DifferenceTable.js';
import type { EnrollRequest as _switchyard_v1_EnrollRequest, EnrollRequest__Output as _switchyard_v1_EnrollRequest__Output } from './switchyard/v1/EnrollRequest.js';
import type { EnrollResponse as _switchyard_v1_EnrollResponse, EnrollResponse__Output as _switchyard_v1_EnrollResponse__Output } from './switchyard/v1/EnrollResponse.js';
import type { ExtentColumns as _switchyard_v1_ExtentColumns, ExtentColumns__Output as _switchyard_v1_ExtentColumns__Output } from './switchyard/v1/ExtentColumns.js';
import type { ExtentRow as _switchyard_v1_ExtentRow, ExtentRow__Output as _switchyard_v1_ExtentRow__Output } from './switchyard/v1/ExtentRow.js';
import type { ExternalDevice as _switchyard_v1_ExternalDevice, ExternalDevice__Output as _switchyard_v1_ExternalDevice__Output } from './switchyard/v1/ExternalDevice.js';
import type { FenceRequest as _switchyard_v1_FenceRequest, FenceRequest__Output as _switchyard_v1_FenceRequest__Output } from './switchyard/v1/FenceRequest.js';
import type { FenceResponse as _switchyard_v1_FenceResponse, FenceResponse__Output as _switchyard_v1_FenceResponse__Output } from './switchyard/v1/FenceResponse.js';
import type { GetInventoryRequest as _switchyard_v1_GetInventoryRequest, GetInventoryRequest__Output as _switchyard_v1_GetInventoryRequest__Output } from './switchyard/v1/GetInventoryRequest.js';
import type { GetLeaseHolderRequest as _switchyard_v1_GetLeaseHolderRequest, GetLeaseHolderRequest__Output as _switchyard_v1_GetLeaseHolderRequest__Output } from './switchyard/v1/GetLeaseHolderRequest.js';
import type { GetStateRequest as _switchyard_v1_GetStateRequest, GetStateRequest__Output as _switchyard_v1_GetStateRequest__Output } from './switchyard/v1/GetStateRequest.js';
import type { HoldInForce as _switchyard_v1_HoldInForce, HoldInForce__Output as _switchyard_v1_HoldInForce__Output } from './switchyard/v1/HoldInForce.js';
import type { HoldReport as _switchyard_v1_HoldReport, HoldReport__Output as _switchyard_v1_HoldReport__Output } from './switchyard/v1/HoldReport.js';
import type { HoldRequest as _switchyard_v1_HoldRequest, HoldRequest__Output as _switchyard_v1_HoldRequest__Output } from './switchyard/v1/HoldRequest.js';
import type { Inventory as _switchyard_v1_Inventory, Inventory__Output as _switchyard_v1_Inventory__Output } from './switchyard/v1/Inventory.js';
import type { JournalEntry as _switchyard_v1_JournalEntry, JournalEntry__Output as _switchyard_v1_JournalEntry__Output } from './switchyard/v1/JournalEntry.js';
import type { Lease as _switchyard_v1_Lease, Lease__Output as _switchyard_v1_Lease__Output } from './switchyard/v1/Lease.js';
import type { LeaseHolder as _switchyard_v1_LeaseHolder, LeaseHolder__Output as _switchyard_v1_LeaseHolder__Output } from './switchyard/v1/LeaseHolder.js';
import type { ListMirrorsRequest as _switchyard_v1_ListMirrorsRequest, ListMirrorsRequest__Output as _switchyard_v1_ListMirrorsRequest__Output } from './switchyard/v1/ListMirrorsRequest.js';
import type { ListMirrorsResponse as _switchyard_v1_ListMirrorsResponse, ListMirrorsResponse__Output as _switchyard_v1_ListMirrorsResponse__Output } from './switchyard/v1/ListMirrorsResponse.js';
import type { LoadTableReport as _switchyard_v1_LoadTableReport, LoadTableReport__Output as _switchyard_v1_LoadTableReport__Output } from './switchyard/v1/LoadTableReport.js';
import type { LoadTableRequest as _switchyard_v1_LoadTableRequest, LoadTableRequest__Output as _switchyard_v1_LoadTableRequest__Output } from './switchyard/v1/LoadTableRequest.js';
import type { LogicalUnit as _switchyard_v1_LogicalUnit, LogicalUnit__Output as _switchyard_v1_LogicalUnit__Output } from './switchyard/v1/LogicalUnit.js';
import type { LogicalUnitInventory as _switchyard_v1_LogicalUnitInventory, LogicalUnitInventory__Output as _switchyard_v1_LogicalUnitInventory__Output } from './switchyard/v1/LogicalUnitInventory.js';
import type { Mirror as _switchyard_v1_Mirror, Mirror__Output as _switchyard_v1_Mirror__Output } from './switchyard/v1/Mirror.js';
import type { PhaseReport as _switchyard_v1_PhaseReport, PhaseReport__Output as _switchyard_v1_PhaseReport__Output } from './switchyard/v1/PhaseReport.js';
import type { PhaseTiming as _switchyard_v1_PhaseTiming, PhaseTiming__Output as _switchyard_v1_PhaseTiming__Output } from './switchyard/v1/PhaseTiming.js';
import type { ProbeNbdExportRequest as _switchyard_v1_ProbeNbdExportRequest, ProbeNbdExportRequest__Output as _switchyard_v1_ProbeNbdExportRequest__Output } from './switchyard/v1/ProbeNbdExportRequest.js';
import type { ProbeNbdExportResponse as _switchyard_v1_ProbeNbdExportResponse, ProbeNbdExportResponse__Output as _switchyard_v1_ProbeNbdExportResponse__Output } from './switchyard/v1/ProbeNbdExportResponse.js';
import type { ReadStoreRequest as _switchyard_v1_ReadStoreRequest, ReadStoreRequest__Output as _switchyard_v1_ReadStoreRequest__Output } from './switchyard/v1/ReadStoreRequest.js';
import type { RegisterKeyRequest as _switchyard_v1_RegisterKeyRequest, RegisterKeyRequest__Output as _switchyard_v1_RegisterKeyRequest__Output } from './switchyard/v1/RegisterKeyRequest.js';
import type { RegisterKeyResponse as _switchyard_v1_RegisterKeyResponse, RegisterKeyResponse__Output as _switchyard_v1_RegisterKeyResponse__Output } from './switchyard/v1/RegisterKeyResponse.js';
import type { RegisterReport as _switchyard_v1_RegisterReport, RegisterReport__Output as _switchyard_v1_RegisterReport__Output } from './switchyard/v1/RegisterReport.js';
import type { RegisterRequest as _switchyard_v1_RegisterRequest, RegisterRequest__Output as _switchyard_v1_RegisterRequest__Output } from './switchyard/v1/RegisterRequest.js';
import type { ReleaseReport as _switchyard_v1_ReleaseReport, ReleaseReport__Output as _switchyard_v1_ReleaseReport__Output } from './switchyard/v1/ReleaseReport.js';
import type { ReleaseRequest as _switchyard_v1_ReleaseRequest, ReleaseRequest__Output as _switchyard_v1_ReleaseRequest__Output } from './switchyard/v1/ReleaseRequest.js';
import type { RenewLeaseRequest as _switchyard_v1_RenewLeaseRequest, RenewLeaseRequest__Output as _switchyard_v1_RenewLeaseRequest__Output } from './switchyard/v1/RenewLeaseRequest.js';
import type { RenewRegistrationRequest as _switchyard_v1_RenewRegistrationRequest, RenewRegistrationRequest__Output as _switchyard_v1_RenewRegistrationRequest__Output } from './switchyard/v1/RenewRegistrationRequest.js';
import type { RenewRegistrationResponse as _switchyard_v1_RenewRegistrationResponse, RenewRegistrationResponse__Output as _switchyard_v1_RenewRegistrationResponse__Output } from './switchyard/v1/RenewRegistrationResponse.js';
import type { ScrubAreasRequest as _switchyard_v1_ScrubAreasRequest, ScrubAreasRequest__Output as _switchyard_v1_ScrubAreasRequest__Output } from './switchyard/v1/ScrubAreasRequest.js';
import type { ScrubAreasResponse as _switchyard_v1_ScrubAreasResponse, ScrubAreasResponse__Output as _switchyard_v1_ScrubAreasResponse__Output } from './switchyard/v1/ScrubAreasResponse.js';
import type { StartMirrorRequest as _switchyard_v1_StartMirrorRequest, StartMirrorRequest__Output as _switchyard_v1_StartMirrorRequest__Output } from './switchyard/v1/StartMirrorRequest.js';
import type { StopMirrorRequest as _switchyard_v1_StopMirrorRequest, StopMirrorRequest__Output as _switchyard_v1_StopMirrorRequest__Output } from './switchyard/v1/StopMirrorRequest.js';
import type { StopMirrorResponse as _switchyard_v1_StopMirrorResponse, StopMirrorResponse__Output as _switchyard_v1_StopMirrorResponse__Output } from './switchyard/v1/StopMirrorResponse.js';
import type { StoreDelta as _switchyard_v1_StoreDelta, StoreDelta__Output as _switchyard_v1_StoreDelta__Output } from './switchyard/v1/StoreDelta.js';
import type { StoreSnapshot as _switchyard_v1_StoreSnapshot, StoreSnapshot__Output as _switchyard_v1_StoreSnapshot__Output } from './switchyard/v1/StoreSnapshot.js';
import type { StoreState as _switchyard_v1_StoreState, StoreState__Output as _switchyard_v1_StoreState__Output } from './switchyard/v1/StoreState.js';
import type { VolumeRange as _switchyard_v1_VolumeRange, VolumeRange__Output as _switchyard_v1_VolumeRange__Output } from './switchyard/v1/VolumeRange.js';
import type { VolumeShape as _switchyard_v1_VolumeShape, VolumeShape__Output as _switchyard_v1_VolumeShape__Output } from './switchyard/v1/VolumeShape.js';
import type { VolumeTable as _switchyard_v1_VolumeTable, VolumeTable__Output as _switchyard_v1_VolumeTable__Output } from './switchyard/v1/VolumeTable.js';
import type { WriteStoreRequest as _switchyard_v1_WriteStoreRequest, WriteStoreRequest__Output as _switchyard_v1_WriteStoreRequest__Output } from './switchyard/v1/WriteStoreRequest.js';
import type { WriteStoreResponse as _switchyard_v1_WriteStoreResponse, WriteStoreResponse__Output as _switchyard_v1_WriteStoreResponse__Output } from './switchyard/v1/WriteStoreResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  switchyard: {
    v1: {
      AbortReport: MessageTypeDefinition<_switchyard_v1_AbortReport, _switchyard_v1_AbortReport__Output>
      AbortRequest: MessageTypeDefinition<_switchyard_v1_AbortRequest, _switchyard_v1_AbortRequest__Output>
      AcquireLeaseRequest: MessageTypeDefinition<_switchyard_v1_AcquireLeaseRequest, _switchyard_v1_AcquireLeaseRequest__Output>
      Apparatus: SubtypeConstructor<typeof grpc.Client, _switchyard_v1_ApparatusClient> & { service: _switchyard_v1_ApparatusDefinition }
      ApparatusRecord: MessageTypeDefinition<_switchyard_v1_ApparatusRecord, _switchyard_v1_ApparatusRecord__Output>
      ApparatusState: MessageTypeDefinition<_switchyard_v1_ApparatusState, _switchyard_v1_ApparatusState__Output>
      ApparatusStatus: EnumTypeDefinition
      ApplyReport: MessageTypeDefinition<_switchyard_v1_ApplyReport, _switchyard_v1_ApplyReport__Output>
      ApplyRequest: MessageTypeDefinition<_switchyard_v1_ApplyRequest, _switchyard_v1_ApplyRequest__Output>
      ChangeState: EnumTypeDefinition
      CommitDeltaRequest: MessageTypeDefinition<_switchyard_v1_CommitDeltaRequest, _switchyard_v1_CommitDeltaRequest__Output>
      ConfigurationTable: MessageTypeDefinition<_switchyard_v1_ConfigurationTable, _switchyard_v1_ConfigurationTable__Output>
      ControlFailure: MessageTypeDefinition<_switchyard_v1_ControlFailure, _switchyard_v1_ControlFailure__Output>
      ControlReply: MessageTypeDefinition<_switchyard_v1_ControlReply, _switchyard_v1_ControlReply__Output>
      ControlRequest: MessageTypeDefinition<_switchyard_v1_ControlRequest, _switchyard_v1_ControlRequest__Output>
      CopyProgressRow: MessageTypeDefinition<_switchyard_v1_CopyProgressRow, _switchyard_v1_CopyProgressRow__Output>
      Device: SubtypeConstructor<typeof grpc.Client, _switchyard_v1_DeviceClient> & { service: _switchyard_v1_DeviceDefinition }
      DifferenceTable: MessageTypeDefinition<_switchyard_v1_DifferenceTable, _switchyard_v1_DifferenceTable__Output>
      EnrollRequest: MessageTypeDefinition<_switchyard_v1_EnrollRequest, _switchyard_v1_EnrollRequest__Output>
      EnrollResponse: MessageTypeDefinition<_switchyard_v1_EnrollResponse, _switchyard_v1_EnrollResponse__Output>
      ExtentColumns: MessageTypeDefinition<_switchyard_v1_ExtentColumns, _switchyard_v1_ExtentColumns__Output>
      ExtentRow: MessageTypeDefinition<_switchyard_v1_ExtentRow, _switchyard_v1_ExtentRow__Output>
      ExternalDevice: MessageTypeDefinition<_switchyard_v1_ExternalDevice, _switchyard_v1_ExternalDevice__Output>
      FenceRequest: MessageTypeDefinition<_switchyard_v1_FenceRequest, _switchyard_v1_FenceRequest__Output>
      FenceResponse: MessageTypeDefinition<_switchyard_v1_FenceResponse, _switchyard_v1_FenceResponse__Output>
      GetInventoryRequest: MessageTypeDefinition<_switchyard_v1_GetInventoryRequest, _switchyard_v1_GetInventoryRequest__Output>
      GetLeaseHolderRequest: MessageTypeDefinition<_switchyard_v1_GetLeaseHolderRequest, _switchyard_v1_GetLeaseHolderRequest__Output>
      GetStateRequest: MessageTypeDefinition<_switchyard_v1_GetStateRequest, _switchyard_v1_GetStateRequest__Output>
      HoldInForce: MessageTypeDefinition<_switchyard_v1_HoldInForce, _switchyard_v1_HoldInForce__Output>
      HoldMode: EnumTypeDefinition
      HoldReport: MessageTypeDefinition<_switchyard_v1_HoldReport, _switchyard_v1_HoldReport__Output>
      HoldRequest: MessageTypeDefinition<_switchyard_v1_HoldRequest, _switchyard_v1_HoldRequest__Output>
      Inventory: MessageTypeDefinition<_switchyard_v1_Inventory, _switchyard_v1_Inventory__Output>
      JournalEntry: MessageTypeDefinition<_switchyard_v1_JournalEntry, _switchyard_v1_JournalEntry__Output>
      Lease: MessageTypeDefinition<_switchyard_v1_Lease, _switchyard_v1_Lease__Output>
      LeaseHolder: MessageTypeDefinition<_switchyard_v1_LeaseHolder, _switchyard_v1_LeaseHolder__Output>
      ListMirrorsRequest: MessageTypeDefinition<_switchyard_v1_ListMirrorsRequest, _switchyard_v1_ListMirrorsRequest__Output>
      ListMirrorsResponse: MessageTypeDefinition<_switchyard_v1_ListMirrorsResponse, _switchyard_v1_ListMirrorsResponse__Output>
      LoadTableReport: MessageTypeDefinition<_switchyard_v1_LoadTableReport, _switchyard_v1_LoadTableReport__Output>
      LoadTableRequest: MessageTypeDefinition<_switchyard_v1_LoadTableRequest, _switchyard_v1_LoadTableRequest__Output>
      LogicalUnit: MessageTypeDefinition<_switchyard_v1_LogicalUnit, _switchyard_v1_LogicalUnit__Output>
      LogicalUnitInventory: MessageTypeDefinition<_switchyard_v1_LogicalUnitInventory, _switchyard_v1_LogicalUnitInventory__Output>
      Mirror: MessageTypeDefinition<_switchyard_v1_Mirror, _switchyard_v1_Mirror__Output>
      PhaseReport: MessageTypeDefinition<_switchyard_v1_PhaseReport, _switchyard_v1_PhaseReport__Output>
      PhaseTiming: MessageTypeDefinition<_switchyard_v1_PhaseTiming, _switchyard_v1_PhaseTiming__Output>
      ProbeNbdExportRequest: MessageTypeDefinition<_switchyard_v1_ProbeNbdExportRequest, _switchyard_v1_ProbeNbdExportRequest__Output>
      ProbeNbdExportResponse: MessageTypeDefinition<_switchyard_v1_ProbeNbdExportResponse, _switchyard_v1_ProbeNbdExportResponse__Output>
      ReadStoreRequest: MessageTypeDefinition<_switchyard_v1_ReadStoreRequest, _switchyard_v1_ReadStoreRequest__Output>
      RegisterKeyRequest: MessageTypeDefinition<_switchyard_v1_RegisterKeyRequest, _switchyard_v1_RegisterKeyRequest__Output>
      RegisterKeyResponse: MessageTypeDefinition<_switchyard_v1_RegisterKeyResponse, _switchyard_v1_RegisterKeyResponse__Output>
      RegisterReport: MessageTypeDefinition<_switchyard_v1_RegisterReport, _switchyard_v1_RegisterReport__Output>
      RegisterRequest: MessageTypeDefinition<_switchyard_v1_RegisterRequest, _switchyard_v1_RegisterRequest__Output>
      RegistrationStatus: EnumTypeDefinition
      ReleaseReport: MessageTypeDefinition<_switchyard_v1_ReleaseReport, _switchyard_v1_ReleaseReport__Output>
      ReleaseRequest: MessageTypeDefinition<_switchyard_v1_ReleaseRequest, _switchyard_v1_ReleaseRequest__Output>
      RenewLeaseRequest: MessageTypeDefinition<_switchyard_v1_RenewLeaseRequest, _switchyard_v1_RenewLeaseRequest__Output>
      RenewRegistrationRequest: MessageTypeDefinition<_switchyard_v1_RenewRegistrationRequest, _switchyard_v1_RenewRegistrationRequest__Output>
      RenewRegistrationResponse: MessageTypeDefinition<_switchyard_v1_RenewRegistrationResponse, _switchyard_v1_RenewRegistrationResponse__Output>
      ScrubAreasRequest: MessageTypeDefinition<_switchyard_v1_ScrubAreasRequest, _switchyard_v1_ScrubAreasRequest__Output>
      ScrubAreasResponse: MessageTypeDefinition<_switchyard_v1_ScrubAreasResponse, _switchyard_v1_ScrubAreasResponse__Output>
      StartMirrorRequest: MessageTypeDefinition<_switchyard_v1_StartMirrorRequest, _switchyard_v1_StartMirrorRequest__Output>
      StopMirrorRequest: MessageTypeDefinition<_switchyard_v1_StopMirrorRequest, _switchyard_v1_StopMirrorRequest__Output>
      StopMirrorResponse: MessageTypeDefinition<_switchyard_v1_StopMirrorResponse, _switchyard_v1_StopMirrorResponse__Output>
      StoreDelta: MessageTypeDefinition<_switchyard_v1_StoreDelta, _switchyard_v1_StoreDelta__Output>
      StoreSnapshot: MessageTypeDefinition<_switchyard_v1_StoreSnapshot, _switchyard_v1_StoreSnapshot__Output>
      StoreState: MessageTypeDefinition<_switchyard_v1_StoreState, _switchyard_v1_StoreState__Output>
      VolumeRange: MessageTypeDefinition<_switchyard_v1_VolumeRange, _switchyard_v1_VolumeRange__Output>
      VolumeShape: MessageTypeDefinition<_switchyard_v1_VolumeShape, _switchyard_v1_VolumeShape__Output>
      VolumeTable: MessageTypeDefinition<_switchyard_v1_VolumeTable, _switchyard_v1_VolumeTable__Output>
      WriteStoreRequest: MessageTypeDefinition<_switchyard_v1_WriteStoreRequest, _switchyard_v1_WriteStoreRequest__Output>
      WriteStoreResponse: MessageTypeDefinition<_switchyard_v1_WriteStoreResponse, _switchyard_v1_WriteStoreResponse__Output>
    }
  }
}

