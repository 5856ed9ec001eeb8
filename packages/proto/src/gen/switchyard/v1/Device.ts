// Original file: proto/switchyard/v1/device.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AcquireLeaseRequest as _switchyard_v1_AcquireLeaseRequest, AcquireLeaseRequest__Output as _switchyard_v1_AcquireLeaseRequest__Output } from '../../switchyard/v1/AcquireLeaseRequest.js';
import type { CommitDeltaRequest as _switchyard_v1_CommitDeltaRequest, CommitDeltaRequest__Output as _switchyard_v1_CommitDeltaRequest__Output } from '../../switchyard/v1/CommitDeltaRequest.js';
import type { EnrollRequest as _switchyard_v1_EnrollRequest, EnrollRequest__Output as _switchyard_v1_EnrollRequest__Output } from '../../switchyard/v1/EnrollRequest.js';
import type { EnrollResponse as _switchyard_v1_EnrollResponse, EnrollResponse__Output as _switchyard_v1_EnrollResponse__Output } from '../../switchyard/v1/EnrollResponse.js';
import type { FenceRequest as _switchyard_v1_FenceRequest, FenceRequest__Output as _switchyard_v1_FenceRequest__Output } from '../../switchyard/v1/FenceRequest.js';
import type { FenceResponse as _switchyard_v1_FenceResponse, FenceResponse__Output as _switchyard_v1_FenceResponse__Output } from '../../switchyard/v1/FenceResponse.js';
import type { GetInventoryRequest as _switchyard_v1_GetInventoryRequest, GetInventoryRequest__Output as _switchyard_v1_GetInventoryRequest__Output } from '../../switchyard/v1/GetInventoryRequest.js';
import type { GetLeaseHolderRequest as _switchyard_v1_GetLeaseHolderRequest, GetLeaseHolderRequest__Output as _switchyard_v1_GetLeaseHolderRequest__Output } from '../../switchyard/v1/GetLeaseHolderRequest.js';
import type { Inventory as _switchyard_v1_Inventory, Inventory__Output as _switchyard_v1_Inventory__Output } from '../../switchyard/v1/Inventory.js';
import type { Lease as _switchyard_v1_Lease, Lease__Output as _switchyard_v1_Lease__Output } from '../../switchyard/v1/Lease.js';
import type { LeaseHolder as _switchyard_v1_LeaseHolder, LeaseHolder__Output as _switchyard_v1_LeaseHolder__Output } from '../../switchyard/v1/LeaseHolder.js';
import type { ListMirrorsRequest as _switchyard_v1_ListMirrorsRequest, ListMirrorsRequest__Output as _switchyard_v1_ListMirrorsRequest__Output } from '../../switchyard/v1/ListMirrorsRequest.js';
import type { ListMirrorsResponse as _switchyard_v1_ListMirrorsResponse, ListMirrorsResponse__Output as _switchyard_v1_ListMirrorsResponse__Output } from '../../switchyard/v1/ListMirrorsResponse.js';
import type { Mirror as _switchyard_v1_Mirror, Mirror__Output as _switchyard_v1_Mirror__Output } from '../../switchyard/v1/Mirror.js';
import type { ProbeNbdExportRequest as _switchyard_v1_ProbeNbdExportRequest, ProbeNbdExportRequest__Output as _switchyard_v1_ProbeNbdExportRequest__Output } from '../../switchyard/v1/ProbeNbdExportRequest.js';
import type { ProbeNbdExportResponse as _switchyard_v1_ProbeNbdExportResponse, ProbeNbdExportResponse__Output as _switchyard_v1_ProbeNbdExportResponse__Output } from '../../switchyard/v1/ProbeNbdExportResponse.js';
import type { ReadStoreRequest as _switchyard_v1_ReadStoreRequest, ReadStoreRequest__Output as _switchyard_v1_ReadStoreRequest__Output } from '../../switchyard/v1/ReadStoreRequest.js';
import type { RegisterKeyRequest as _switchyard_v1_RegisterKeyRequest, RegisterKeyRequest__Output as _switchyard_v1_RegisterKeyRequest__Output } from '../../switchyard/v1/RegisterKeyRequest.js';
import type { RegisterKeyResponse as _switchyard_v1_RegisterKeyResponse, RegisterKeyResponse__Output as _switchyard_v1_RegisterKeyResponse__Output } from '../../switchyard/v1/RegisterKeyResponse.js';
import type { RenewLeaseRequest as _switchyard_v1_RenewLeaseRequest, RenewLeaseRequest__Output as _switchyard_v1_RenewLeaseRequest__Output } from '../../switchyard/v1/RenewLeaseRequest.js';
import type { RenewRegistrationRequest as _switchyard_v1_RenewRegistrationRequest, RenewRegistrationRequest__Output as _switchyard_v1_RenewRegistrationRequest__Output } from '../../switchyard/v1/RenewRegistrationRequest.js';
import type { RenewRegistrationResponse as _switchyard_v1_RenewRegistrationResponse, RenewRegistrationResponse__Output as _switchyard_v1_RenewRegistrationResponse__Output } from '../../switchyard/v1/RenewRegistrationResponse.js';
import type { ScrubAreasRequest as _switchyard_v1_ScrubAreasRequest, ScrubAreasRequest__Output as _switchyard_v1_ScrubAreasRequest__Output } from '../../switchyard/v1/ScrubAreasRequest.js';
import type { ScrubAreasResponse as _switchyard_v1_ScrubAreasResponse, ScrubAreasResponse__Output as _switchyard_v1_ScrubAreasResponse__Output } from '../../switchyard/v1/ScrubAreasResponse.js';
import type { StartMirrorRequest as _switchyard_v1_StartMirrorRequest, StartMirrorRequest__Output as _switchyard_v1_StartMirrorRequest__Output } from '../../switchyard/v1/StartMirrorRequest.js';
import type { StopMirrorRequest as _switchyard_v1_StopMirrorRequest, StopMirrorRequest__Output as _switchyard_v1_StopMirrorRequest__Output } from '../../switchyard/v1/StopMirrorRequest.js';
import type { StopMirrorResponse as _switchyard_v1_StopMirrorResponse, StopMirrorResponse__Output as _switchyard_v1_StopMirrorResponse__Output } from '../../switchyard/v1/StopMirrorResponse.js';
import type { StoreSnapshot as _switchyard_v1_StoreSnapshot, StoreSnapshot__Output as _switchyard_v1_StoreSnapshot__Output } from '../../switchyard/v1/StoreSnapshot.js';
import type { WriteStoreRequest as _switchyard_v1_WriteStoreRequest, WriteStoreRequest__Output as _switchyard_v1_WriteStoreRequest__Output } from '../../switchyard/v1/WriteStoreRequest.js';
import type { WriteStoreResponse as _switchyard_v1_WriteStoreResponse, WriteStoreResponse__Output as _switchyard_v1_WriteStoreResponse__Output } from '../../switchyard/v1/WriteStoreResponse.js';

export interface DeviceClient extends grpc.Client {
  AcquireLease(argument: _switchyard_v1_AcquireLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  AcquireLease(argument: _switchyard_v1_AcquireLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  AcquireLease(argument: _switchyard_v1_AcquireLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  AcquireLease(argument: _switchyard_v1_AcquireLeaseRequest, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  acquireLease(argument: _switchyard_v1_AcquireLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  acquireLease(argument: _switchyard_v1_AcquireLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  acquireLease(argument: _switchyard_v1_AcquireLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  acquireLease(argument: _switchyard_v1_AcquireLeaseRequest, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  
  CommitDelta(argument: _switchyard_v1_CommitDeltaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  CommitDelta(argument: _switchyard_v1_CommitDeltaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  CommitDelta(argument: _switchyard_v1_CommitDeltaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  CommitDelta(argument: _switchyard_v1_CommitDeltaRequest, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  commitDelta(argument: _switchyard_v1_CommitDeltaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  commitDelta(argument: _switchyard_v1_CommitDeltaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  commitDelta(argument: _switchyard_v1_CommitDeltaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  commitDelta(argument: _switchyard_v1_CommitDeltaRequest, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  
  Enroll(argument: _switchyard_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _switchyard_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _switchyard_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _switchyard_v1_EnrollRequest, callback: grpc.requestCallback<_switchyard_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _switchyard_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _switchyard_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _switchyard_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _switchyard_v1_EnrollRequest, callback: grpc.requestCallback<_switchyard_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  
  Fence(argument: _switchyard_v1_FenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_FenceResponse__Output>): grpc.ClientUnaryCall;
  Fence(argument: _switchyard_v1_FenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_FenceResponse__Output>): grpc.ClientUnaryCall;
  Fence(argument: _switchyard_v1_FenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_FenceResponse__Output>): grpc.ClientUnaryCall;
  Fence(argument: _switchyard_v1_FenceRequest, callback: grpc.requestCallback<_switchyard_v1_FenceResponse__Output>): grpc.ClientUnaryCall;
  fence(argument: _switchyard_v1_FenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_FenceResponse__Output>): grpc.ClientUnaryCall;
  fence(argument: _switchyard_v1_FenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_FenceResponse__Output>): grpc.ClientUnaryCall;
  fence(argument: _switchyard_v1_FenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_FenceResponse__Output>): grpc.ClientUnaryCall;
  fence(argument: _switchyard_v1_FenceRequest, callback: grpc.requestCallback<_switchyard_v1_FenceResponse__Output>): grpc.ClientUnaryCall;
  
  GetInventory(argument: _switchyard_v1_GetInventoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Inventory__Output>): grpc.ClientUnaryCall;
  GetInventory(argument: _switchyard_v1_GetInventoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_Inventory__Output>): grpc.ClientUnaryCall;
  GetInventory(argument: _switchyard_v1_GetInventoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Inventory__Output>): grpc.ClientUnaryCall;
  GetInventory(argument: _switchyard_v1_GetInventoryRequest, callback: grpc.requestCallback<_switchyard_v1_Inventory__Output>): grpc.ClientUnaryCall;
  getInventory(argument: _switchyard_v1_GetInventoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Inventory__Output>): grpc.ClientUnaryCall;
  getInventory(argument: _switchyard_v1_GetInventoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_Inventory__Output>): grpc.ClientUnaryCall;
  getInventory(argument: _switchyard_v1_GetInventoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Inventory__Output>): grpc.ClientUnaryCall;
  getInventory(argument: _switchyard_v1_GetInventoryRequest, callback: grpc.requestCallback<_switchyard_v1_Inventory__Output>): grpc.ClientUnaryCall;
  
  GetLeaseHolder(argument: _switchyard_v1_GetLeaseHolderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_LeaseHolder__Output>): grpc.ClientUnaryCall;
  GetLeaseHolder(argument: _switchyard_v1_GetLeaseHolderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_LeaseHolder__Output>): grpc.ClientUnaryCall;
  GetLeaseHolder(argument: _switchyard_v1_GetLeaseHolderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_LeaseHolder__Output>): grpc.ClientUnaryCall;
  GetLeaseHolder(argument: _switchyard_v1_GetLeaseHolderRequest, callback: grpc.requestCallback<_switchyard_v1_LeaseHolder__Output>): grpc.ClientUnaryCall;
  getLeaseHolder(argument: _switchyard_v1_GetLeaseHolderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_LeaseHolder__Output>): grpc.ClientUnaryCall;
  getLeaseHolder(argument: _switchyard_v1_GetLeaseHolderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_LeaseHolder__Output>): grpc.ClientUnaryCall;
  getLeaseHolder(argument: _switchyard_v1_GetLeaseHolderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_LeaseHolder__Output>): grpc.ClientUnaryCall;
  getLeaseHolder(argument: _switchyard_v1_GetLeaseHolderRequest, callback: grpc.requestCallback<_switchyard_v1_LeaseHolder__Output>): grpc.ClientUnaryCall;
  
  ListMirrors(argument: _switchyard_v1_ListMirrorsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListMirrorsResponse__Output>): grpc.ClientUnaryCall;
  ListMirrors(argument: _switchyard_v1_ListMirrorsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ListMirrorsResponse__Output>): grpc.ClientUnaryCall;
  ListMirrors(argument: _switchyard_v1_ListMirrorsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListMirrorsResponse__Output>): grpc.ClientUnaryCall;
  ListMirrors(argument: _switchyard_v1_ListMirrorsRequest, callback: grpc.requestCallback<_switchyard_v1_ListMirrorsResponse__Output>): grpc.ClientUnaryCall;
  listMirrors(argument: _switchyard_v1_ListMirrorsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListMirrorsResponse__Output>): grpc.ClientUnaryCall;
  listMirrors(argument: _switchyard_v1_ListMirrorsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ListMirrorsResponse__Output>): grpc.ClientUnaryCall;
  listMirrors(argument: _switchyard_v1_ListMirrorsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListMirrorsResponse__Output>): grpc.ClientUnaryCall;
  listMirrors(argument: _switchyard_v1_ListMirrorsRequest, callback: grpc.requestCallback<_switchyard_v1_ListMirrorsResponse__Output>): grpc.ClientUnaryCall;
  
  ProbeNbdExport(argument: _switchyard_v1_ProbeNbdExportRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ProbeNbdExportResponse__Output>): grpc.ClientUnaryCall;
  ProbeNbdExport(argument: _switchyard_v1_ProbeNbdExportRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ProbeNbdExportResponse__Output>): grpc.ClientUnaryCall;
  ProbeNbdExport(argument: _switchyard_v1_ProbeNbdExportRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ProbeNbdExportResponse__Output>): grpc.ClientUnaryCall;
  ProbeNbdExport(argument: _switchyard_v1_ProbeNbdExportRequest, callback: grpc.requestCallback<_switchyard_v1_ProbeNbdExportResponse__Output>): grpc.ClientUnaryCall;
  probeNbdExport(argument: _switchyard_v1_ProbeNbdExportRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ProbeNbdExportResponse__Output>): grpc.ClientUnaryCall;
  probeNbdExport(argument: _switchyard_v1_ProbeNbdExportRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ProbeNbdExportResponse__Output>): grpc.ClientUnaryCall;
  probeNbdExport(argument: _switchyard_v1_ProbeNbdExportRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ProbeNbdExportResponse__Output>): grpc.ClientUnaryCall;
  probeNbdExport(argument: _switchyard_v1_ProbeNbdExportRequest, callback: grpc.requestCallback<_switchyard_v1_ProbeNbdExportResponse__Output>): grpc.ClientUnaryCall;
  
  ReadStore(argument: _switchyard_v1_ReadStoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_StoreSnapshot__Output>): grpc.ClientUnaryCall;
  ReadStore(argument: _switchyard_v1_ReadStoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_StoreSnapshot__Output>): grpc.ClientUnaryCall;
  ReadStore(argument: _switchyard_v1_ReadStoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_StoreSnapshot__Output>): grpc.ClientUnaryCall;
  ReadStore(argument: _switchyard_v1_ReadStoreRequest, callback: grpc.requestCallback<_switchyard_v1_StoreSnapshot__Output>): grpc.ClientUnaryCall;
  readStore(argument: _switchyard_v1_ReadStoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_StoreSnapshot__Output>): grpc.ClientUnaryCall;
  readStore(argument: _switchyard_v1_ReadStoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_StoreSnapshot__Output>): grpc.ClientUnaryCall;
  readStore(argument: _switchyard_v1_ReadStoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_StoreSnapshot__Output>): grpc.ClientUnaryCall;
  readStore(argument: _switchyard_v1_ReadStoreRequest, callback: grpc.requestCallback<_switchyard_v1_StoreSnapshot__Output>): grpc.ClientUnaryCall;
  
  RegisterKey(argument: _switchyard_v1_RegisterKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RegisterKeyResponse__Output>): grpc.ClientUnaryCall;
  RegisterKey(argument: _switchyard_v1_RegisterKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_RegisterKeyResponse__Output>): grpc.ClientUnaryCall;
  RegisterKey(argument: _switchyard_v1_RegisterKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RegisterKeyResponse__Output>): grpc.ClientUnaryCall;
  RegisterKey(argument: _switchyard_v1_RegisterKeyRequest, callback: grpc.requestCallback<_switchyard_v1_RegisterKeyResponse__Output>): grpc.ClientUnaryCall;
  registerKey(argument: _switchyard_v1_RegisterKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RegisterKeyResponse__Output>): grpc.ClientUnaryCall;
  registerKey(argument: _switchyard_v1_RegisterKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_RegisterKeyResponse__Output>): grpc.ClientUnaryCall;
  registerKey(argument: _switchyard_v1_RegisterKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RegisterKeyResponse__Output>): grpc.ClientUnaryCall;
  registerKey(argument: _switchyard_v1_RegisterKeyRequest, callback: grpc.requestCallback<_switchyard_v1_RegisterKeyResponse__Output>): grpc.ClientUnaryCall;
  
  RenewLease(argument: _switchyard_v1_RenewLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  RenewLease(argument: _switchyard_v1_RenewLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  RenewLease(argument: _switchyard_v1_RenewLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  RenewLease(argument: _switchyard_v1_RenewLeaseRequest, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  renewLease(argument: _switchyard_v1_RenewLeaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  renewLease(argument: _switchyard_v1_RenewLeaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  renewLease(argument: _switchyard_v1_RenewLeaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  renewLease(argument: _switchyard_v1_RenewLeaseRequest, callback: grpc.requestCallback<_switchyard_v1_Lease__Output>): grpc.ClientUnaryCall;
  
  RenewRegistration(argument: _switchyard_v1_RenewRegistrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RenewRegistrationResponse__Output>): grpc.ClientUnaryCall;
  RenewRegistration(argument: _switchyard_v1_RenewRegistrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_RenewRegistrationResponse__Output>): grpc.ClientUnaryCall;
  RenewRegistration(argument: _switchyard_v1_RenewRegistrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RenewRegistrationResponse__Output>): grpc.ClientUnaryCall;
  RenewRegistration(argument: _switchyard_v1_RenewRegistrationRequest, callback: grpc.requestCallback<_switchyard_v1_RenewRegistrationResponse__Output>): grpc.ClientUnaryCall;
  renewRegistration(argument: _switchyard_v1_RenewRegistrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RenewRegistrationResponse__Output>): grpc.ClientUnaryCall;
  renewRegistration(argument: _switchyard_v1_RenewRegistrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_RenewRegistrationResponse__Output>): grpc.ClientUnaryCall;
  renewRegistration(argument: _switchyard_v1_RenewRegistrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RenewRegistrationResponse__Output>): grpc.ClientUnaryCall;
  renewRegistration(argument: _switchyard_v1_RenewRegistrationRequest, callback: grpc.requestCallback<_switchyard_v1_RenewRegistrationResponse__Output>): grpc.ClientUnaryCall;
  
  ScrubAreas(argument: _switchyard_v1_ScrubAreasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ScrubAreasResponse__Output>): grpc.ClientUnaryCall;
  ScrubAreas(argument: _switchyard_v1_ScrubAreasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ScrubAreasResponse__Output>): grpc.ClientUnaryCall;
  ScrubAreas(argument: _switchyard_v1_ScrubAreasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ScrubAreasResponse__Output>): grpc.ClientUnaryCall;
  ScrubAreas(argument: _switchyard_v1_ScrubAreasRequest, callback: grpc.requestCallback<_switchyard_v1_ScrubAreasResponse__Output>): grpc.ClientUnaryCall;
  scrubAreas(argument: _switchyard_v1_ScrubAreasRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ScrubAreasResponse__Output>): grpc.ClientUnaryCall;
  scrubAreas(argument: _switchyard_v1_ScrubAreasRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ScrubAreasResponse__Output>): grpc.ClientUnaryCall;
  scrubAreas(argument: _switchyard_v1_ScrubAreasRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ScrubAreasResponse__Output>): grpc.ClientUnaryCall;
  scrubAreas(argument: _switchyard_v1_ScrubAreasRequest, callback: grpc.requestCallback<_switchyard_v1_ScrubAreasResponse__Output>): grpc.ClientUnaryCall;
  
  StartMirror(argument: _switchyard_v1_StartMirrorRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Mirror__Output>): grpc.ClientUnaryCall;
  StartMirror(argument: _switchyard_v1_StartMirrorRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_Mirror__Output>): grpc.ClientUnaryCall;
  StartMirror(argument: _switchyard_v1_StartMirrorRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Mirror__Output>): grpc.ClientUnaryCall;
  StartMirror(argument: _switchyard_v1_StartMirrorRequest, callback: grpc.requestCallback<_switchyard_v1_Mirror__Output>): grpc.ClientUnaryCall;
  startMirror(argument: _switchyard_v1_StartMirrorRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Mirror__Output>): grpc.ClientUnaryCall;
  startMirror(argument: _switchyard_v1_StartMirrorRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_Mirror__Output>): grpc.ClientUnaryCall;
  startMirror(argument: _switchyard_v1_StartMirrorRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_Mirror__Output>): grpc.ClientUnaryCall;
  startMirror(argument: _switchyard_v1_StartMirrorRequest, callback: grpc.requestCallback<_switchyard_v1_Mirror__Output>): grpc.ClientUnaryCall;
  
  StopMirror(argument: _switchyard_v1_StopMirrorRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_StopMirrorResponse__Output>): grpc.ClientUnaryCall;
  StopMirror(argument: _switchyard_v1_StopMirrorRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_StopMirrorResponse__Output>): grpc.ClientUnaryCall;
  StopMirror(argument: _switchyard_v1_StopMirrorRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_StopMirrorResponse__Output>): grpc.ClientUnaryCall;
  StopMirror(argument: _switchyard_v1_StopMirrorRequest, callback: grpc.requestCallback<_switchyard_v1_StopMirrorResponse__Output>): grpc.ClientUnaryCall;
  stopMirror(argument: _switchyard_v1_StopMirrorRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_StopMirrorResponse__Output>): grpc.ClientUnaryCall;
  stopMirror(argument: _switchyard_v1_StopMirrorRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_StopMirrorResponse__Output>): grpc.ClientUnaryCall;
  stopMirror(argument: _switchyard_v1_StopMirrorRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_StopMirrorResponse__Output>): grpc.ClientUnaryCall;
  stopMirror(argument: _switchyard_v1_StopMirrorRequest, callback: grpc.requestCallback<_switchyard_v1_StopMirrorResponse__Output>): grpc.ClientUnaryCall;
  
  WriteStore(argument: _switchyard_v1_WriteStoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  WriteStore(argument: _switchyard_v1_WriteStoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  WriteStore(argument: _switchyard_v1_WriteStoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  WriteStore(argument: _switchyard_v1_WriteStoreRequest, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  writeStore(argument: _switchyard_v1_WriteStoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  writeStore(argument: _switchyard_v1_WriteStoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  writeStore(argument: _switchyard_v1_WriteStoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  writeStore(argument: _switchyard_v1_WriteStoreRequest, callback: grpc.requestCallback<_switchyard_v1_WriteStoreResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface DeviceHandlers extends grpc.UntypedServiceImplementation {
  AcquireLease: grpc.handleUnaryCall<_switchyard_v1_AcquireLeaseRequest__Output, _switchyard_v1_Lease>;
  
  CommitDelta: grpc.handleUnaryCall<_switchyard_v1_CommitDeltaRequest__Output, _switchyard_v1_WriteStoreResponse>;
  
  Enroll: grpc.handleUnaryCall<_switchyard_v1_EnrollRequest__Output, _switchyard_v1_EnrollResponse>;
  
  Fence: grpc.handleUnaryCall<_switchyard_v1_FenceRequest__Output, _switchyard_v1_FenceResponse>;
  
  GetInventory: grpc.handleUnaryCall<_switchyard_v1_GetInventoryRequest__Output, _switchyard_v1_Inventory>;
  
  GetLeaseHolder: grpc.handleUnaryCall<_switchyard_v1_GetLeaseHolderRequest__Output, _switchyard_v1_LeaseHolder>;
  
  ListMirrors: grpc.handleUnaryCall<_switchyard_v1_ListMirrorsRequest__Output, _switchyard_v1_ListMirrorsResponse>;
  
  ProbeNbdExport: grpc.handleUnaryCall<_switchyard_v1_ProbeNbdExportRequest__Output, _switchyard_v1_ProbeNbdExportResponse>;
  
  ReadStore: grpc.handleUnaryCall<_switchyard_v1_ReadStoreRequest__Output, _switchyard_v1_StoreSnapshot>;
  
  RegisterKey: grpc.handleUnaryCall<_switchyard_v1_RegisterKeyRequest__Output, _switchyard_v1_RegisterKeyResponse>;
  
  RenewLease: grpc.handleUnaryCall<_switchyard_v1_RenewLeaseRequest__Output, _switchyard_v1_Lease>;
  
  RenewRegistration: grpc.handleUnaryCall<_switchyard_v1_RenewRegistrationRequest__Output, _switchyard_v1_RenewRegistrationResponse>;
  
  ScrubAreas: grpc.handleUnaryCall<_switchyard_v1_ScrubAreasRequest__Output, _switchyard_v1_ScrubAreasResponse>;
  
  StartMirror: grpc.handleUnaryCall<_switchyard_v1_StartMirrorRequest__Output, _switchyard_v1_Mirror>;
  
  StopMirror: grpc.handleUnaryCall<_switchyard_v1_StopMirrorRequest__Output, _switchyard_v1_StopMirrorResponse>;
  
  WriteStore: grpc.handleUnaryCall<_switchyard_v1_WriteStoreRequest__Output, _switchyard_v1_WriteStoreResponse>;
  
}

export interface DeviceDefinition extends grpc.ServiceDefinition {
  AcquireLease: MethodDefinition<_switchyard_v1_AcquireLeaseRequest, _switchyard_v1_Lease, _switchyard_v1_AcquireLeaseRequest__Output, _switchyard_v1_Lease__Output>
  CommitDelta: MethodDefinition<_switchyard_v1_CommitDeltaRequest, _switchyard_v1_WriteStoreResponse, _switchyard_v1_CommitDeltaRequest__Output, _switchyard_v1_WriteStoreResponse__Output>
  Enroll: MethodDefinition<_switchyard_v1_EnrollRequest, _switchyard_v1_EnrollResponse, _switchyard_v1_EnrollRequest__Output, _switchyard_v1_EnrollResponse__Output>
  Fence: MethodDefinition<_switchyard_v1_FenceRequest, _switchyard_v1_FenceResponse, _switchyard_v1_FenceRequest__Output, _switchyard_v1_FenceResponse__Output>
  GetInventory: MethodDefinition<_switchyard_v1_GetInventoryRequest, _switchyard_v1_Inventory, _switchyard_v1_GetInventoryRequest__Output, _switchyard_v1_Inventory__Output>
  GetLeaseHolder: MethodDefinition<_switchyard_v1_GetLeaseHolderRequest, _switchyard_v1_LeaseHolder, _switchyard_v1_GetLeaseHolderRequest__Output, _switchyard_v1_LeaseHolder__Output>
  ListMirrors: MethodDefinition<_switchyard_v1_ListMirrorsRequest, _switchyard_v1_ListMirrorsResponse, _switchyard_v1_ListMirrorsRequest__Output, _switchyard_v1_ListMirrorsResponse__Output>
  ProbeNbdExport: MethodDefinition<_switchyard_v1_ProbeNbdExportRequest, _switchyard_v1_ProbeNbdExportResponse, _switchyard_v1_ProbeNbdExportRequest__Output, _switchyard_v1_ProbeNbdExportResponse__Output>
  ReadStore: MethodDefinition<_switchyard_v1_ReadStoreRequest, _switchyard_v1_StoreSnapshot, _switchyard_v1_ReadStoreRequest__Output, _switchyard_v1_StoreSnapshot__Output>
  RegisterKey: MethodDefinition<_switchyard_v1_RegisterKeyRequest, _switchyard_v1_RegisterKeyResponse, _switchyard_v1_RegisterKeyRequest__Output, _switchyard_v1_RegisterKeyResponse__Output>
  RenewLease: MethodDefinition<_switchyard_v1_RenewLeaseRequest, _switchyard_v1_Lease, _switchyard_v1_RenewLeaseRequest__Output, _switchyard_v1_Lease__Output>
  RenewRegistration: MethodDefinition<_switchyard_v1_RenewRegistrationRequest, _switchyard_v1_RenewRegistrationResponse, _switchyard_v1_RenewRegistrationRequest__Output, _switchyard_v1_RenewRegistrationResponse__Output>
  ScrubAreas: MethodDefinition<_switchyard_v1_ScrubAreasRequest, _switchyard_v1_ScrubAreasResponse, _switchyard_v1_ScrubAreasRequest__Output, _switchyard_v1_ScrubAreasResponse__Output>
  StartMirror: MethodDefinition<_switchyard_v1_StartMirrorRequest, _switchyard_v1_Mirror, _switchyard_v1_StartMirrorRequest__Output, _switchyard_v1_Mirror__Output>
  StopMirror: MethodDefinition<_switchyard_v1_StopMirrorRequest, _switchyard_v1_StopMirrorResponse, _switchyard_v1_StopMirrorRequest__Output, _switchyard_v1_StopMirrorResponse__Output>
  WriteStore: MethodDefinition<_switchyard_v1_WriteStoreRequest, _switchyard_v1_WriteStoreResponse, _switchyard_v1_WriteStoreRequest__Output, _switchyard_v1_WriteStoreResponse__Output>
}
