import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AbortReport as _switchyard_v1_AbortReport, AbortReport__Output as _switchyard_v1_AbortReport__Output } from './switchyard/v1/AbortReport.js';
import type { AbortRequest as _switchyard_v1_AbortRequest, AbortRequest__Output as _switchyard_v1_AbortRequest__Output } from './switchyard/v1/AbortRequest.js';
import type { AddExternalDeviceRequest as _switchyard_v1_AddExternalDeviceRequest, AddExternalDeviceRequest__Output as _switchyard_v1_AddExternalDeviceRequest__Output } from './switchyard/v1/AddExternalDeviceRequest.js';
import type { AddExternalDeviceResponse as _switchyard_v1_AddExternalDeviceResponse, AddExternalDeviceResponse__Output as _switchyard_v1_AddExternalDeviceResponse__Output } from './switchyard/v1/AddExternalDeviceResponse.js';
import type { ApparatusClient as _switchyard_v1_ApparatusClient, ApparatusDefinition as _switchyard_v1_ApparatusDefinition } from './switchyard/v1/Apparatus.js';
import type { ApparatusActionResponse as _switchyard_v1_ApparatusActionResponse, ApparatusActionResponse__Output as _switchyard_v1_ApparatusActionResponse__Output } from './switchyard/v1/ApparatusActionResponse.js';
import type { ApparatusRecord as _switchyard_v1_ApparatusRecord, ApparatusRecord__Output as _switchyard_v1_ApparatusRecord__Output } from './switchyard/v1/ApparatusRecord.js';
import type { ApparatusState as _switchyard_v1_ApparatusState, ApparatusState__Output as _switchyard_v1_ApparatusState__Output } from './switchyard/v1/ApparatusState.js';
import type { ApparatusSummary as _switchyard_v1_ApparatusSummary, ApparatusSummary__Output as _switchyard_v1_ApparatusSummary__Output } from './switchyard/v1/ApparatusSummary.js';
import type { ApplyReport as _switchyard_v1_ApplyReport, ApplyReport__Output as _switchyard_v1_ApplyReport__Output } from './switchyard/v1/ApplyReport.js';
import type { ApplyRequest as _switchyard_v1_ApplyRequest, ApplyRequest__Output as _switchyard_v1_ApplyRequest__Output } from './switchyard/v1/ApplyRequest.js';
import type { CancelChangeRequest as _switchyard_v1_CancelChangeRequest, CancelChangeRequest__Output as _switchyard_v1_CancelChangeRequest__Output } from './switchyard/v1/CancelChangeRequest.js';
import type { ChangeInfo as _switchyard_v1_ChangeInfo, ChangeInfo__Output as _switchyard_v1_ChangeInfo__Output } from './switchyard/v1/ChangeInfo.js';
import type { ClusterStatus as _switchyard_v1_ClusterStatus, ClusterStatus__Output as _switchyard_v1_ClusterStatus__Output } from './switchyard/v1/ClusterStatus.js';
import type { ConfigurationTable as _switchyard_v1_ConfigurationTable, ConfigurationTable__Output as _switchyard_v1_ConfigurationTable__Output } from './switchyard/v1/ConfigurationTable.js';
import type { ControlFailure as _switchyard_v1_ControlFailure, ControlFailure__Output as _switchyard_v1_ControlFailure__Output } from './switchyard/v1/ControlFailure.js';
import type { ControlReply as _switchyard_v1_ControlReply, ControlReply__Output as _switchyard_v1_ControlReply__Output } from './switchyard/v1/ControlReply.js';
import type { ControlRequest as _switchyard_v1_ControlRequest, ControlRequest__Output as _switchyard_v1_ControlRequest__Output } from './switchyard/v1/ControlRequest.js';
import type { ControllerClient as _switchyard_v1_ControllerClient, ControllerDefinition as _switchyard_v1_ControllerDefinition } from './switchyard/v1/Controller.js';
import type { ControllerSummary as _switchyard_v1_ControllerSummary, ControllerSummary__Output as _switchyard_v1_ControllerSummary__Output } from './switchyard/v1/ControllerSummary.js';
import type { CoordinationMember as _switchyard_v1_CoordinationMember, CoordinationMember__Output as _switchyard_v1_CoordinationMember__Output } from './switchyard/v1/CoordinationMember.js';
import type { CoordinationStatus as _switchyard_v1_CoordinationStatus, CoordinationStatus__Output as _switchyard_v1_CoordinationStatus__Output } from './switchyard/v1/CoordinationStatus.js';
import type { CopyProgressRow as _switchyard_v1_CopyProgressRow, CopyProgressRow__Output as _switchyard_v1_CopyProgressRow__Output } from './switchyard/v1/CopyProgressRow.js';
import type { CreateVolumeRequest as _switchyard_v1_CreateVolumeRequest, CreateVolumeRequest__Output as _switchyard_v1_CreateVolumeRequest__Output } from './switchyard/v1/CreateVolumeRequest.js';
import type { DeleteVolumeRequest as _switchyard_v1_DeleteVolumeRequest, DeleteVolumeRequest__Output as _switchyard_v1_DeleteVolumeRequest__Output } from './switchyard/v1/DeleteVolumeRequest.js';
import type { DeleteVolumeResponse as _switchyard_v1_DeleteVolumeResponse, DeleteVolumeResponse__Output as _switchyard_v1_DeleteVolumeResponse__Output } from './switchyard/v1/DeleteVolumeResponse.js';
import type { DeviceStatus as _switchyard_v1_DeviceStatus, DeviceStatus__Output as _switchyard_v1_DeviceStatus__Output } from './switchyard/v1/DeviceStatus.js';
import type { DifferenceTable as _switchyard_v1_DifferenceTable, DifferenceTable__Output as _switchyard_v1_DifferenceTable__Output } from './switchyard/v1/DifferenceTable.js';
import type { ExtentColumns as _switchyard_v1_ExtentColumns, ExtentColumns__Output as _switchyard_v1_ExtentColumns__Output } from './switchyard/v1/ExtentColumns.js';
import type { ExtentPlacement as _switchyard_v1_ExtentPlacement, ExtentPlacement__Output as _switchyard_v1_ExtentPlacement__Output } from './switchyard/v1/ExtentPlacement.js';
import type { ExtentRow as _switchyard_v1_ExtentRow, ExtentRow__Output as _switchyard_v1_ExtentRow__Output } from './switchyard/v1/ExtentRow.js';
import type { ExternalDevice as _switchyard_v1_ExternalDevice, ExternalDevice__Output as _switchyard_v1_ExternalDevice__Output } from './switchyard/v1/ExternalDevice.js';
import type { FenceApparatusRequest as _switchyard_v1_FenceApparatusRequest, FenceApparatusRequest__Output as _switchyard_v1_FenceApparatusRequest__Output } from './switchyard/v1/FenceApparatusRequest.js';
import type { GetChangeRequest as _switchyard_v1_GetChangeRequest, GetChangeRequest__Output as _switchyard_v1_GetChangeRequest__Output } from './switchyard/v1/GetChangeRequest.js';
import type { GetClusterStatusRequest as _switchyard_v1_GetClusterStatusRequest, GetClusterStatusRequest__Output as _switchyard_v1_GetClusterStatusRequest__Output } from './switchyard/v1/GetClusterStatusRequest.js';
import type { GetStateRequest as _switchyard_v1_GetStateRequest, GetStateRequest__Output as _switchyard_v1_GetStateRequest__Output } from './switchyard/v1/GetStateRequest.js';
import type { GetVolumeRequest as _switchyard_v1_GetVolumeRequest, GetVolumeRequest__Output as _switchyard_v1_GetVolumeRequest__Output } from './switchyard/v1/GetVolumeRequest.js';
import type { HoldInForce as _switchyard_v1_HoldInForce, HoldInForce__Output as _switchyard_v1_HoldInForce__Output } from './switchyard/v1/HoldInForce.js';
import type { HoldReport as _switchyard_v1_HoldReport, HoldReport__Output as _switchyard_v1_HoldReport__Output } from './switchyard/v1/HoldReport.js';
import type { HoldRequest as _switchyard_v1_HoldRequest, HoldRequest__Output as _switchyard_v1_HoldRequest__Output } from './switchyard/v1/HoldRequest.js';
import type { JournalEntry as _switchyard_v1_JournalEntry, JournalEntry__Output as _switchyard_v1_JournalEntry__Output } from './switchyard/v1/JournalEntry.js';
import type { ListChangesRequest as _switchyard_v1_ListChangesRequest, ListChangesRequest__Output as _switchyard_v1_ListChangesRequest__Output } from './switchyard/v1/ListChangesRequest.js';
import type { ListChangesResponse as _switchyard_v1_ListChangesResponse, ListChangesResponse__Output as _switchyard_v1_ListChangesResponse__Output } from './switchyard/v1/ListChangesResponse.js';
import type { ListVolumesRequest as _switchyard_v1_ListVolumesRequest, ListVolumesRequest__Output as _switchyard_v1_ListVolumesRequest__Output } from './switchyard/v1/ListVolumesRequest.js';
import type { ListVolumesResponse as _switchyard_v1_ListVolumesResponse, ListVolumesResponse__Output as _switchyard_v1_ListVolumesResponse__Output } from './switchyard/v1/ListVolumesResponse.js';
import type { LoadTableReport as _switchyard_v1_LoadTableReport, LoadTableReport__Output as _switchyard_v1_LoadTableReport__Output } from './switchyard/v1/LoadTableReport.js';
import type { LoadTableRequest as _switchyard_v1_LoadTableRequest, LoadTableRequest__Output as _switchyard_v1_LoadTableRequest__Output } from './switchyard/v1/LoadTableRequest.js';
import type { LogicalUnit as _switchyard_v1_LogicalUnit, LogicalUnit__Output as _switchyard_v1_LogicalUnit__Output } from './switchyard/v1/LogicalUnit.js';
import type { LogicalUnitStatus as _switchyard_v1_LogicalUnitStatus, LogicalUnitStatus__Output as _switchyard_v1_LogicalUnitStatus__Output } from './switchyard/v1/LogicalUnitStatus.js';
import type { Migrate as _switchyard_v1_Migrate, Migrate__Output as _switchyard_v1_Migrate__Output } from './switchyard/v1/Migrate.js';
import type { MoveExtent as _switchyard_v1_MoveExtent, MoveExtent__Output as _switchyard_v1_MoveExtent__Output } from './switchyard/v1/MoveExtent.js';
import type { PhaseReport as _switchyard_v1_PhaseReport, PhaseReport__Output as _switchyard_v1_PhaseReport__Output } from './switchyard/v1/PhaseReport.js';
import type { PhaseTiming as _switchyard_v1_PhaseTiming, PhaseTiming__Output as _switchyard_v1_PhaseTiming__Output } from './switchyard/v1/PhaseTiming.js';
import type { RegisterReport as _switchyard_v1_RegisterReport, RegisterReport__Output as _switchyard_v1_RegisterReport__Output } from './switchyard/v1/RegisterReport.js';
import type { RegisterRequest as _switchyard_v1_RegisterRequest, RegisterRequest__Output as _switchyard_v1_RegisterRequest__Output } from './switchyard/v1/RegisterRequest.js';
import type { RejoinApparatusRequest as _switchyard_v1_RejoinApparatusRequest, RejoinApparatusRequest__Output as _switchyard_v1_RejoinApparatusRequest__Output } from './switchyard/v1/RejoinApparatusRequest.js';
import type { ReleaseReport as _switchyard_v1_ReleaseReport, ReleaseReport__Output as _switchyard_v1_ReleaseReport__Output } from './switchyard/v1/ReleaseReport.js';
import type { ReleaseRequest as _switchyard_v1_ReleaseRequest, ReleaseRequest__Output as _switchyard_v1_ReleaseRequest__Output } from './switchyard/v1/ReleaseRequest.js';
import type { RemoveExternalDeviceRequest as _switchyard_v1_RemoveExternalDeviceRequest, RemoveExternalDeviceRequest__Output as _switchyard_v1_RemoveExternalDeviceRequest__Output } from './switchyard/v1/RemoveExternalDeviceRequest.js';
import type { RemoveExternalDeviceResponse as _switchyard_v1_RemoveExternalDeviceResponse, RemoveExternalDeviceResponse__Output as _switchyard_v1_RemoveExternalDeviceResponse__Output } from './switchyard/v1/RemoveExternalDeviceResponse.js';
import type { ResizeVolume as _switchyard_v1_ResizeVolume, ResizeVolume__Output as _switchyard_v1_ResizeVolume__Output } from './switchyard/v1/ResizeVolume.js';
import type { StoreDelta as _switchyard_v1_StoreDelta, StoreDelta__Output as _switchyard_v1_StoreDelta__Output } from './switchyard/v1/StoreDelta.js';
import type { StoreState as _switchyard_v1_StoreState, StoreState__Output as _switchyard_v1_StoreState__Output } from './switchyard/v1/StoreState.js';
import type { SubmitChangeRequest as _switchyard_v1_SubmitChangeRequest, SubmitChangeRequest__Output as _switchyard_v1_SubmitChangeRequest__Output } from './switchyard/v1/SubmitChangeRequest.js';
import type { VolumeInfo as _switchyard_v1_VolumeInfo, VolumeInfo__Output as _switchyard_v1_VolumeInfo__Output } from './switchyard/v1/VolumeInfo.js';
import type { VolumeRange as _switchyard_v1_VolumeRange, VolumeRange__Output as _switchyard_v1_VolumeRange__Output } from './switchyard/v1/VolumeRange.js';
import type { VolumeShape as _switchyard_v1_VolumeShape, VolumeShape__Output as _switchyard_v1_VolumeShape__Output } from './switchyard/v1/VolumeShape.js';
import type { VolumeTable as _switchyard_v1_VolumeTable, VolumeTable__Output as _switchyard_v1_VolumeTable__Output } from './switchyard/v1/VolumeTable.js';
import type { WatchChangeRequest as _switchyard_v1_WatchChangeRequest, WatchChangeRequest__Output as _switchyard_v1_WatchChangeRequest__Output } from './switchyard/v1/WatchChangeRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  switchyard: {
    v1: {
      AbortReport: MessageTypeDefinition<_switchyard_v1_AbortReport, _switchyard_v1_AbortReport__Output>
      AbortRequest: MessageTypeDefinition<_switchyard_v1_AbortRequest, _switchyard_v1_AbortRequest__Output>
      AddExternalDeviceRequest: MessageTypeDefinition<_switchyard_v1_AddExternalDeviceRequest, _switchyard_v1_AddExternalDeviceRequest__Output>
      AddExternalDeviceResponse: MessageTypeDefinition<_switchyard_v1_AddExternalDeviceResponse, _switchyard_v1_AddExternalDeviceResponse__Output>
      Apparatus: SubtypeConstructor<typeof grpc.Client, _switchyard_v1_ApparatusClient> & { service: _switchyard_v1_ApparatusDefinition }
      ApparatusActionResponse: MessageTypeDefinition<_switchyard_v1_ApparatusActionResponse, _switchyard_v1_ApparatusActionResponse__Output>
      ApparatusRecord: MessageTypeDefinition<_switchyard_v1_ApparatusRecord, _switchyard_v1_ApparatusRecord__Output>
      ApparatusState: MessageTypeDefinition<_switchyard_v1_ApparatusState, _switchyard_v1_ApparatusState__Output>
      ApparatusStatus: EnumTypeDefinition
      ApparatusSummary: MessageTypeDefinition<_switchyard_v1_ApparatusSummary, _switchyard_v1_ApparatusSummary__Output>
      ApplyReport: MessageTypeDefinition<_switchyard_v1_ApplyReport, _switchyard_v1_ApplyReport__Output>
      ApplyRequest: MessageTypeDefinition<_switchyard_v1_ApplyRequest, _switchyard_v1_ApplyRequest__Output>
      CancelChangeRequest: MessageTypeDefinition<_switchyard_v1_CancelChangeRequest, _switchyard_v1_CancelChangeRequest__Output>
      ChangeInfo: MessageTypeDefinition<_switchyard_v1_ChangeInfo, _switchyard_v1_ChangeInfo__Output>
      ChangeState: EnumTypeDefinition
      ClusterStatus: MessageTypeDefinition<_switchyard_v1_ClusterStatus, _switchyard_v1_ClusterStatus__Output>
      ConfigurationTable: MessageTypeDefinition<_switchyard_v1_ConfigurationTable, _switchyard_v1_ConfigurationTable__Output>
      ControlFailure: MessageTypeDefinition<_switchyard_v1_ControlFailure, _switchyard_v1_ControlFailure__Output>
      ControlReply: MessageTypeDefinition<_switchyard_v1_ControlReply, _switchyard_v1_ControlReply__Output>
      ControlRequest: MessageTypeDefinition<_switchyard_v1_ControlRequest, _switchyard_v1_ControlRequest__Output>
      Controller: SubtypeConstructor<typeof grpc.Client, _switchyard_v1_ControllerClient> & { service: _switchyard_v1_ControllerDefinition }
      ControllerSummary: MessageTypeDefinition<_switchyard_v1_ControllerSummary, _switchyard_v1_ControllerSummary__Output>
      CoordinationMember: MessageTypeDefinition<_switchyard_v1_CoordinationMember, _switchyard_v1_CoordinationMember__Output>
      CoordinationStatus: MessageTypeDefinition<_switchyard_v1_CoordinationStatus, _switchyard_v1_CoordinationStatus__Output>
      CopyProgressRow: MessageTypeDefinition<_switchyard_v1_CopyProgressRow, _switchyard_v1_CopyProgressRow__Output>
      CreateVolumeRequest: MessageTypeDefinition<_switchyard_v1_CreateVolumeRequest, _switchyard_v1_CreateVolumeRequest__Output>
      DeleteVolumeRequest: MessageTypeDefinition<_switchyard_v1_DeleteVolumeRequest, _switchyard_v1_DeleteVolumeRequest__Output>
      DeleteVolumeResponse: MessageTypeDefinition<_switchyard_v1_DeleteVolumeResponse, _switchyard_v1_DeleteVolumeResponse__Output>
      DeviceStatus: MessageTypeDefinition<_switchyard_v1_DeviceStatus, _switchyard_v1_DeviceStatus__Output>
      DifferenceTable: MessageTypeDefinition<_switchyard_v1_DifferenceTable, _switchyard_v1_DifferenceTable__Output>
      ExtentColumns: MessageTypeDefinition<_switchyard_v1_ExtentColumns, _switchyard_v1_ExtentColumns__Output>
      ExtentPlacement: MessageTypeDefinition<_switchyard_v1_ExtentPlacement, _switchyard_v1_ExtentPlacement__Output>
      ExtentRow: MessageTypeDefinition<_switchyard_v1_ExtentRow, _switchyard_v1_ExtentRow__Output>
      ExternalDevice: MessageTypeDefinition<_switchyard_v1_ExternalDevice, _switchyard_v1_ExternalDevice__Output>
      FenceApparatusRequest: MessageTypeDefinition<_switchyard_v1_FenceApparatusRequest, _switchyard_v1_FenceApparatusRequest__Output>
      GetChangeRequest: MessageTypeDefinition<_switchyard_v1_GetChangeRequest, _switchyard_v1_GetChangeRequest__Output>
      GetClusterStatusRequest: MessageTypeDefinition<_switchyard_v1_GetClusterStatusRequest, _switchyard_v1_GetClusterStatusRequest__Output>
      GetStateRequest: MessageTypeDefinition<_switchyard_v1_GetStateRequest, _switchyard_v1_GetStateRequest__Output>
      GetVolumeRequest: MessageTypeDefinition<_switchyard_v1_GetVolumeRequest, _switchyard_v1_GetVolumeRequest__Output>
      HoldInForce: MessageTypeDefinition<_switchyard_v1_HoldInForce, _switchyard_v1_HoldInForce__Output>
      HoldMode: EnumTypeDefinition
      HoldReport: MessageTypeDefinition<_switchyard_v1_HoldReport, _switchyard_v1_HoldReport__Output>
      HoldRequest: MessageTypeDefinition<_switchyard_v1_HoldRequest, _switchyard_v1_HoldRequest__Output>
      JournalEntry: MessageTypeDefinition<_switchyard_v1_JournalEntry, _switchyard_v1_JournalEntry__Output>
      ListChangesRequest: MessageTypeDefinition<_switchyard_v1_ListChangesRequest, _switchyard_v1_ListChangesRequest__Output>
      ListChangesResponse: MessageTypeDefinition<_switchyard_v1_ListChangesResponse, _switchyard_v1_ListChangesResponse__Output>
      ListVolumesRequest: MessageTypeDefinition<_switchyard_v1_ListVolumesRequest, _switchyard_v1_ListVolumesRequest__Output>
      ListVolumesResponse: MessageTypeDefinition<_switchyard_v1_ListVolumesResponse, _switchyard_v1_ListVolumesResponse__Output>
      LoadTableReport: MessageTypeDefinition<_switchyard_v1_LoadTableReport, _switchyard_v1_LoadTableReport__Output>
      LoadTableRequest: MessageTypeDefinition<_switchyard_v1_LoadTableRequest, _switchyard_v1_LoadTableRequest__Output>
      LogicalUnit: MessageTypeDefinition<_switchyard_v1_LogicalUnit, _switchyard_v1_LogicalUnit__Output>
      LogicalUnitStatus: MessageTypeDefinition<_switchyard_v1_LogicalUnitStatus, _switchyard_v1_LogicalUnitStatus__Output>
      Migrate: MessageTypeDefinition<_switchyard_v1_Migrate, _switchyard_v1_Migrate__Output>
      MoveExtent: MessageTypeDefinition<_switchyard_v1_MoveExtent, _switchyard_v1_MoveExtent__Output>
      PhaseReport: MessageTypeDefinition<_switchyard_v1_PhaseReport, _switchyard_v1_PhaseReport__Output>
      PhaseTiming: MessageTypeDefinition<_switchyard_v1_PhaseTiming, _switchyard_v1_PhaseTiming__Output>
      RegisterReport: MessageTypeDefinition<_switchyard_v1_RegisterReport, _switchyard_v1_RegisterReport__Output>
      RegisterRequest: MessageTypeDefinition<_switchyard_v1_RegisterRequest, _switchyard_v1_RegisterRequest__Output>
      RejoinApparatusRequest: MessageTypeDefinition<_switchyard_v1_RejoinApparatusRequest, _switchyard_v1_RejoinApparatusRequest__Output>
      ReleaseReport: MessageTypeDefinition<_switchyard_v1_ReleaseReport, _switchyard_v1_ReleaseReport__Output>
      ReleaseRequest: MessageTypeDefinition<_switchyard_v1_ReleaseRequest, _switchyard_v1_ReleaseRequest__Output>
      RemoveExternalDeviceRequest: MessageTypeDefinition<_switchyard_v1_RemoveExternalDeviceRequest, _switchyard_v1_RemoveExternalDeviceRequest__Output>
      RemoveExternalDeviceResponse: MessageTypeDefinition<_switchyard_v1_RemoveExternalDeviceResponse, _switchyard_v1_RemoveExternalDeviceResponse__Output>
      ResizeVolume: MessageTypeDefinition<_switchyard_v1_ResizeVolume, _switchyard_v1_ResizeVolume__Output>
      StoreDelta: MessageTypeDefinition<_switchyard_v1_StoreDelta, _switchyard_v1_StoreDelta__Output>
      StoreState: MessageTypeDefinition<_switchyard_v1_StoreState, _switchyard_v1_StoreState__Output>
      SubmitChangeRequest: MessageTypeDefinition<_switchyard_v1_SubmitChangeRequest, _switchyard_v1_SubmitChangeRequest__Output>
      VolumeInfo: MessageTypeDefinition<_switchyard_v1_VolumeInfo, _switchyard_v1_VolumeInfo__Output>
      VolumeRange: MessageTypeDefinition<_switchyard_v1_VolumeRange, _switchyard_v1_VolumeRange__Output>
      VolumeShape: MessageTypeDefinition<_switchyard_v1_VolumeShape, _switchyard_v1_VolumeShape__Output>
      VolumeTable: MessageTypeDefinition<_switchyard_v1_VolumeTable, _switchyard_v1_VolumeTable__Output>
      WatchChangeRequest: MessageTypeDefinition<_switchyard_v1_WatchChangeRequest, _switchyard_v1_WatchChangeRequest__Output>
    }
  }
}

