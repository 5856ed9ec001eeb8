// Original file: proto/switchyard/v1/controller.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddExternalDeviceRequest as _switchyard_v1_AddExternalDeviceRequest, AddExternalDeviceRequest__Output as _switchyard_v1_AddExternalDeviceRequest__Output } from '../../switchyard/v1/AddExternalDeviceRequest.js';
import type { AddExternalDeviceResponse as _switchyard_v1_AddExternalDeviceResponse, AddExternalDeviceResponse__Output as _switchyard_v1_AddExternalDeviceResponse__Output } from '../../switchyard/v1/AddExternalDeviceResponse.js';
import type { ApparatusActionResponse as _switchyard_v1_ApparatusActionResponse, ApparatusActionResponse__Output as _switchyard_v1_ApparatusActionResponse__Output } from '../../switchyard/v1/ApparatusActionResponse.js';
import type { CancelChangeRequest as _switchyard_v1_CancelChangeRequest, CancelChangeRequest__Output as _switchyard_v1_CancelChangeRequest__Output } from '../../switchyard/v1/CancelChangeRequest.js';
import type { ChangeInfo as _switchyard_v1_ChangeInfo, ChangeInfo__Output as _switchyard_v1_ChangeInfo__Output } from '../../switchyard/v1/ChangeInfo.js';
import type { ClusterStatus as _switchyard_v1_ClusterStatus, ClusterStatus__Output as _switchyard_v1_ClusterStatus__Output } from '../../switchyard/v1/ClusterStatus.js';
import type { CreateVolumeRequest as _switchyard_v1_CreateVolumeRequest, CreateVolumeRequest__Output as _switchyard_v1_CreateVolumeRequest__Output } from '../../switchyard/v1/CreateVolumeRequest.js';
import type { DeleteVolumeRequest as _switchyard_v1_DeleteVolumeRequest, DeleteVolumeRequest__Output as _switchyard_v1_DeleteVolumeRequest__Output } from '../../switchyard/v1/DeleteVolumeRequest.js';
import type { DeleteVolumeResponse as _switchyard_v1_DeleteVolumeResponse, DeleteVolumeResponse__Output as _switchyard_v1_DeleteVolumeResponse__Output } from '../../switchyard/v1/DeleteVolumeResponse.js';
import type { FenceApparatusRequest as _switchyard_v1_FenceApparatusRequest, FenceApparatusRequest__Output as _switchyard_v1_FenceApparatusRequest__Output } from '../../switchyard/v1/FenceApparatusRequest.js';
import type { GetChangeRequest as _switchyard_v1_GetChangeRequest, GetChangeRequest__Output as _switchyard_v1_GetChangeRequest__Output } from '../../switchyard/v1/GetChangeRequest.js';
import type { GetClusterStatusRequest as _switchyard_v1_GetClusterStatusRequest, GetClusterStatusRequest__Output as _switchyard_v1_GetClusterStatusRequest__Output } from '../../switchyard/v1/GetClusterStatusRequest.js';
import type { GetVolumeRequest as _switchyard_v1_GetVolumeRequest, GetVolumeRequest__Output as _switchyard_v1_GetVolumeRequest__Output } from '../../switchyard/v1/GetVolumeRequest.js';
import type { ListChangesRequest as _switchyard_v1_ListChangesRequest, ListChangesRequest__Output as _switchyard_v1_ListChangesRequest__Output } from '../../switchyard/v1/ListChangesRequest.js';
import type { ListChangesResponse as _switchyard_v1_ListChangesResponse, ListChangesResponse__Output as _switchyard_v1_ListChangesResponse__Output } from '../../switchyard/v1/ListChangesResponse.js';
import type { ListVolumesRequest as _switchyard_v1_ListVolumesRequest, ListVolumesRequest__Output as _switchyard_v1_ListVolumesRequest__Output } from '../../switchyard/v1/ListVolumesRequest.js';
import type { ListVolumesResponse as _switchyard_v1_ListVolumesResponse, ListVolumesResponse__Output as _switchyard_v1_ListVolumesResponse__Output } from '../../switchyard/v1/ListVolumesResponse.js';
import type { RejoinApparatusRequest as _switchyard_v1_RejoinApparatusRequest, RejoinApparatusRequest__Output as _switchyard_v1_RejoinApparatusRequest__Output } from '../../switchyard/v1/RejoinApparatusRequest.js';
import type { RemoveExternalDeviceRequest as _switchyard_v1_RemoveExternalDeviceRequest, RemoveExternalDeviceRequest__Output as _switchyard_v1_RemoveExternalDeviceRequest__Output } from '../../switchyard/v1/RemoveExternalDeviceRequest.js';
import type { RemoveExternalDeviceResponse as _switchyard_v1_RemoveExternalDeviceResponse, RemoveExternalDeviceResponse__Output as _switchyard_v1_RemoveExternalDeviceResponse__Output } from '../../switchyard/v1/RemoveExternalDeviceResponse.js';
import type { SubmitChangeRequest as _switchyard_v1_SubmitChangeRequest, SubmitChangeRequest__Output as _switchyard_v1_SubmitChangeRequest__Output } from '../../switchyard/v1/SubmitChangeRequest.js';
import type { VolumeInfo as _switchyard_v1_VolumeInfo, VolumeInfo__Output as _switchyard_v1_VolumeInfo__Output } from '../../switchyard/v1/VolumeInfo.js';
import type { WatchChangeRequest as _switchyard_v1_WatchChangeRequest, WatchChangeRequest__Output as _switchyard_v1_WatchChangeRequest__Output } from '../../switchyard/v1/WatchChangeRequest.js';

export interface ControllerClient extends grpc.Client {
  AddExternalDevice(argument: _switchyard_v1_AddExternalDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_AddExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  AddExternalDevice(argument: _switchyard_v1_AddExternalDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_AddExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  AddExternalDevice(argument: _switchyard_v1_AddExternalDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_AddExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  AddExternalDevice(argument: _switchyard_v1_AddExternalDeviceRequest, callback: grpc.requestCallback<_switchyard_v1_AddExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  addExternalDevice(argument: _switchyard_v1_AddExternalDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_AddExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  addExternalDevice(argument: _switchyard_v1_AddExternalDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_AddExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  addExternalDevice(argument: _switchyard_v1_AddExternalDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_AddExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  addExternalDevice(argument: _switchyard_v1_AddExternalDeviceRequest, callback: grpc.requestCallback<_switchyard_v1_AddExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  
  CancelChange(argument: _switchyard_v1_CancelChangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  CancelChange(argument: _switchyard_v1_CancelChangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  CancelChange(argument: _switchyard_v1_CancelChangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  CancelChange(argument: _switchyard_v1_CancelChangeRequest, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  cancelChange(argument: _switchyard_v1_CancelChangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  cancelChange(argument: _switchyard_v1_CancelChangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  cancelChange(argument: _switchyard_v1_CancelChangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  cancelChange(argument: _switchyard_v1_CancelChangeRequest, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  
  CreateVolume(argument: _switchyard_v1_CreateVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  CreateVolume(argument: _switchyard_v1_CreateVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  CreateVolume(argument: _switchyard_v1_CreateVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  CreateVolume(argument: _switchyard_v1_CreateVolumeRequest, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  createVolume(argument: _switchyard_v1_CreateVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  createVolume(argument: _switchyard_v1_CreateVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  createVolume(argument: _switchyard_v1_CreateVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  createVolume(argument: _switchyard_v1_CreateVolumeRequest, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  
  DeleteVolume(argument: _switchyard_v1_DeleteVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  DeleteVolume(argument: _switchyard_v1_DeleteVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  DeleteVolume(argument: _switchyard_v1_DeleteVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  DeleteVolume(argument: _switchyard_v1_DeleteVolumeRequest, callback: grpc.requestCallback<_switchyard_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  deleteVolume(argument: _switchyard_v1_DeleteVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  deleteVolume(argument: _switchyard_v1_DeleteVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  deleteVolume(argument: _switchyard_v1_DeleteVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  deleteVolume(argument: _switchyard_v1_DeleteVolumeRequest, callback: grpc.requestCallback<_switchyard_v1_DeleteVolumeResponse__Output>): grpc.ClientUnaryCall;
  
  FenceApparatus(argument: _switchyard_v1_FenceApparatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  FenceApparatus(argument: _switchyard_v1_FenceApparatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  FenceApparatus(argument: _switchyard_v1_FenceApparatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  FenceApparatus(argument: _switchyard_v1_FenceApparatusRequest, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  fenceApparatus(argument: _switchyard_v1_FenceApparatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  fenceApparatus(argument: _switchyard_v1_FenceApparatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  fenceApparatus(argument: _switchyard_v1_FenceApparatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  fenceApparatus(argument: _switchyard_v1_FenceApparatusRequest, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  
  GetChange(argument: _switchyard_v1_GetChangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  GetChange(argument: _switchyard_v1_GetChangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  GetChange(argument: _switchyard_v1_GetChangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  GetChange(argument: _switchyard_v1_GetChangeRequest, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  getChange(argument: _switchyard_v1_GetChangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  getChange(argument: _switchyard_v1_GetChangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  getChange(argument: _switchyard_v1_GetChangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  getChange(argument: _switchyard_v1_GetChangeRequest, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  
  GetClusterStatus(argument: _switchyard_v1_GetClusterStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  GetClusterStatus(argument: _switchyard_v1_GetClusterStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  GetClusterStatus(argument: _switchyard_v1_GetClusterStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  GetClusterStatus(argument: _switchyard_v1_GetClusterStatusRequest, callback: grpc.requestCallback<_switchyard_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  getClusterStatus(argument: _switchyard_v1_GetClusterStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  getClusterStatus(argument: _switchyard_v1_GetClusterStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  getClusterStatus(argument: _switchyard_v1_GetClusterStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  getClusterStatus(argument: _switchyard_v1_GetClusterStatusRequest, callback: grpc.requestCallback<_switchyard_v1_ClusterStatus__Output>): grpc.ClientUnaryCall;
  
  GetVolume(argument: _switchyard_v1_GetVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  GetVolume(argument: _switchyard_v1_GetVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  GetVolume(argument: _switchyard_v1_GetVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  GetVolume(argument: _switchyard_v1_GetVolumeRequest, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  getVolume(argument: _switchyard_v1_GetVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  getVolume(argument: _switchyard_v1_GetVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  getVolume(argument: _switchyard_v1_GetVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  getVolume(argument: _switchyard_v1_GetVolumeRequest, callback: grpc.requestCallback<_switchyard_v1_VolumeInfo__Output>): grpc.ClientUnaryCall;
  
  ListChanges(argument: _switchyard_v1_ListChangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListChangesResponse__Output>): grpc.ClientUnaryCall;
  ListChanges(argument: _switchyard_v1_ListChangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ListChangesResponse__Output>): grpc.ClientUnaryCall;
  ListChanges(argument: _switchyard_v1_ListChangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListChangesResponse__Output>): grpc.ClientUnaryCall;
  ListChanges(argument: _switchyard_v1_ListChangesRequest, callback: grpc.requestCallback<_switchyard_v1_ListChangesResponse__Output>): grpc.ClientUnaryCall;
  listChanges(argument: _switchyard_v1_ListChangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListChangesResponse__Output>): grpc.ClientUnaryCall;
  listChanges(argument: _switchyard_v1_ListChangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ListChangesResponse__Output>): grpc.ClientUnaryCall;
  listChanges(argument: _switchyard_v1_ListChangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListChangesResponse__Output>): grpc.ClientUnaryCall;
  listChanges(argument: _switchyard_v1_ListChangesRequest, callback: grpc.requestCallback<_switchyard_v1_ListChangesResponse__Output>): grpc.ClientUnaryCall;
  
  ListVolumes(argument: _switchyard_v1_ListVolumesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  ListVolumes(argument: _switchyard_v1_ListVolumesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  ListVolumes(argument: _switchyard_v1_ListVolumesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  ListVolumes(argument: _switchyard_v1_ListVolumesRequest, callback: grpc.requestCallback<_switchyard_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  listVolumes(argument: _switchyard_v1_ListVolumesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  listVolumes(argument: _switchyard_v1_ListVolumesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  listVolumes(argument: _switchyard_v1_ListVolumesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  listVolumes(argument: _switchyard_v1_ListVolumesRequest, callback: grpc.requestCallback<_switchyard_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  
  RejoinApparatus(argument: _switchyard_v1_RejoinApparatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  RejoinApparatus(argument: _switchyard_v1_RejoinApparatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  RejoinApparatus(argument: _switchyard_v1_RejoinApparatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  RejoinApparatus(argument: _switchyard_v1_RejoinApparatusRequest, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  rejoinApparatus(argument: _switchyard_v1_RejoinApparatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  rejoinApparatus(argument: _switchyard_v1_RejoinApparatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  rejoinApparatus(argument: _switchyard_v1_RejoinApparatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  rejoinApparatus(argument: _switchyard_v1_RejoinApparatusRequest, callback: grpc.requestCallback<_switchyard_v1_ApparatusActionResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Forgets an external device that holds no extent and no running migration
   * is moving onto; FAILED_PRECONDITION says what still uses it.
   */
  RemoveExternalDevice(argument: _switchyard_v1_RemoveExternalDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RemoveExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  RemoveExternalDevice(argument: _switchyard_v1_RemoveExternalDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_RemoveExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  RemoveExternalDevice(argument: _switchyard_v1_RemoveExternalDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RemoveExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  RemoveExternalDevice(argument: _switchyard_v1_RemoveExternalDeviceRequest, callback: grpc.requestCallback<_switchyard_v1_RemoveExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Forgets an external device that holds no extent and no running migration
   * is moving onto; FAILED_PRECONDITION says what still uses it.
   */
  removeExternalDevice(argument: _switchyard_v1_RemoveExternalDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RemoveExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  removeExternalDevice(argument: _switchyard_v1_RemoveExternalDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_RemoveExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  removeExternalDevice(argument: _switchyard_v1_RemoveExternalDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RemoveExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  removeExternalDevice(argument: _switchyard_v1_RemoveExternalDeviceRequest, callback: grpc.requestCallback<_switchyard_v1_RemoveExternalDeviceResponse__Output>): grpc.ClientUnaryCall;
  
  SubmitChange(argument: _switchyard_v1_SubmitChangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  SubmitChange(argument: _switchyard_v1_SubmitChangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  SubmitChange(argument: _switchyard_v1_SubmitChangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  SubmitChange(argument: _switchyard_v1_SubmitChangeRequest, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  submitChange(argument: _switchyard_v1_SubmitChangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  submitChange(argument: _switchyard_v1_SubmitChangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  submitChange(argument: _switchyard_v1_SubmitChangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  submitChange(argument: _switchyard_v1_SubmitChangeRequest, callback: grpc.requestCallback<_switchyard_v1_ChangeInfo__Output>): grpc.ClientUnaryCall;
  
  WatchChange(argument: _switchyard_v1_WatchChangeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_switchyard_v1_ChangeInfo__Output>;
  WatchChange(argument: _switchyard_v1_WatchChangeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_switchyard_v1_ChangeInfo__Output>;
  watchChange(argument: _switchyard_v1_WatchChangeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_switchyard_v1_ChangeInfo__Output>;
  watchChange(argument: _switchyard_v1_WatchChangeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_switchyard_v1_ChangeInfo__Output>;
  
}

export interface ControllerHandlers extends grpc.UntypedServiceImplementation {
  AddExternalDevice: grpc.handleUnaryCall<_switchyard_v1_AddExternalDeviceRequest__Output, _switchyard_v1_AddExternalDeviceResponse>;
  
  CancelChange: grpc.handleUnaryCall<_switchyard_v1_CancelChangeRequest__Output, _switchyard_v1_ChangeInfo>;
  
  CreateVolume: grpc.handleUnaryCall<_switchyard_v1_CreateVolumeRequest__Output, _switchyard_v1_VolumeInfo>;
  
  DeleteVolume: grpc.handleUnaryCall<_switchyard_v1_DeleteVolumeRequest__Output, _switchyard_v1_DeleteVolumeResponse>;
  
  FenceApparatus: grpc.handleUnaryCall<_switchyard_v1_FenceApparatusRequest__Output, _switchyard_v1_ApparatusActionResponse>;
  
  GetChange: grpc.handleUnaryCall<_switchyard_v1_GetChangeRequest__Output, _switchyard_v1_ChangeInfo>;
  
  GetClusterStatus: grpc.handleUnaryCall<_switchyard_v1_GetClusterStatusRequest__Output, _switchyard_v1_ClusterStatus>;
  
  GetVolume: grpc.handleUnaryCall<_switchyard_v1_GetVolumeRequest__Output, _switchyard_v1_VolumeInfo>;
  
  ListChanges: grpc.handleUnaryCall<_switchyard_v1_ListChangesRequest__Output, _switchyard_v1_ListChangesResponse>;
  
  ListVolumes: grpc.handleUnaryCall<_switchyard_v1_ListVolumesRequest__Output, _switchyard_v1_ListVolumesResponse>;
  
  RejoinApparatus: grpc.handleUnaryCall<_switchyard_v1_RejoinApparatusRequest__Output, _switchyard_v1_ApparatusActionResponse>;
  
  /**
   * Forgets an external device that holds no extent and no running migration
   * is moving onto; FAILED_PRECONDITION says what still uses it.
   */
  RemoveExternalDevice: grpc.handleUnaryCall<_switchyard_v1_RemoveExternalDeviceRequest__Output, _switchyard_v1_RemoveExternalDeviceResponse>;
  
  SubmitChange: grpc.handleUnaryCall<_switchyard_v1_SubmitChangeRequest__Output, _switchyard_v1_ChangeInfo>;
  
  WatchChange: grpc.handleServerStreamingCall<_switchyard_v1_WatchChangeRequest__Output, _switchyard_v1_ChangeInfo>;
  
}

export interface ControllerDefinition extends grpc.ServiceDefinition {
  AddExternalDevice: MethodDefinition<_switchyard_v1_AddExternalDeviceRequest, _switchyard_v1_AddExternalDeviceResponse, _switchyard_v1_AddExternalDeviceRequest__Output, _switchyard_v1_AddExternalDeviceResponse__Output>
  CancelChange: MethodDefinition<_switchyard_v1_CancelChangeRequest, _switchyard_v1_ChangeInfo, _switchyard_v1_CancelChangeRequest__Output, _switchyard_v1_ChangeInfo__Output>
  CreateVolume: MethodDefinition<_switchyard_v1_CreateVolumeRequest, _switchyard_v1_VolumeInfo, _switchyard_v1_CreateVolumeRequest__Output, _switchyard_v1_VolumeInfo__Output>
  DeleteVolume: MethodDefinition<_switchyard_v1_DeleteVolumeRequest, _switchyard_v1_DeleteVolumeResponse, _switchyard_v1_DeleteVolumeRequest__Output, _switchyard_v1_DeleteVolumeResponse__Output>
  FenceApparatus: MethodDefinition<_switchyard_v1_FenceApparatusRequest, _switchyard_v1_ApparatusActionResponse, _switchyard_v1_FenceApparatusRequest__Output, _switchyard_v1_ApparatusActionResponse__Output>
  GetChange: MethodDefinition<_switchyard_v1_GetChangeRequest, _switchyard_v1_ChangeInfo, _switchyard_v1_GetChangeRequest__Output, _switchyard_v1_ChangeInfo__Output>
  GetClusterStatus: MethodDefinition<_switchyard_v1_GetClusterStatusRequest, _switchyard_v1_ClusterStatus, _switchyard_v1_GetClusterStatusRequest__Output, _switchyard_v1_ClusterStatus__Output>
  GetVolume: MethodDefinition<_switchyard_v1_GetVolumeRequest, _switchyard_v1_VolumeInfo, _switchyard_v1_GetVolumeRequest__Output, _switchyard_v1_VolumeInfo__Output>
  ListChanges: MethodDefinition<_switchyard_v1_ListChangesRequest, _switchyard_v1_ListChangesResponse, _switchyard_v1_ListChangesRequest__Output, _switchyard_v1_ListChangesResponse__Output>
  ListVolumes: MethodDefinition<_switchyard_v1_ListVolumesRequest, _switchyard_v1_ListVolumesResponse, _switchyard_v1_ListVolumesRequest__Output, _switchyard_v1_ListVolumesResponse__Output>
  RejoinApparatus: MethodDefinition<_switchyard_v1_RejoinApparatusRequest, _switchyard_v1_ApparatusActionResponse, _switchyard_v1_RejoinApparatusRequest__Output, _switchyard_v1_ApparatusActionResponse__Output>
  RemoveExternalDevice: MethodDefinition<_switchyard_v1_RemoveExternalDeviceRequest, _switchyard_v1_RemoveExternalDeviceResponse, _switchyard_v1_RemoveExternalDeviceRequest__Output, _switchyard_v1_RemoveExternalDeviceResponse__Output>
  SubmitChange: MethodDefinition<_switchyard_v1_SubmitChangeRequest, _switchyard_v1_ChangeInfo, _switchyard_v1_SubmitChangeRequest__Output, _switchyard_v1_ChangeInfo__Output>
  WatchChange: MethodDefinition<_switchyard_v1_WatchChangeRequest, _switchyard_v1_ChangeInfo, _switchyard_v1_WatchChangeRequest__Output, _switchyard_v1_ChangeInfo__Output>
}
