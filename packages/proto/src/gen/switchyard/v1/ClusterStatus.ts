// Original file: proto/switchyard/v1/controller.proto

import type { DeviceStatus as _switchyard_v1_DeviceStatus, DeviceStatus__Output as _switchyard_v1_DeviceStatus__Output } from '../../switchyard/v1/DeviceStatus.js';
import type { ApparatusSummary as _switchyard_v1_ApparatusSummary, ApparatusSummary__Output as _switchyard_v1_ApparatusSummary__Output } from '../../switchyard/v1/ApparatusSummary.js';
import type { ControllerSummary as _switchyard_v1_ControllerSummary, ControllerSummary__Output as _switchyard_v1_ControllerSummary__Output } from '../../switchyard/v1/ControllerSummary.js';
import type { CoordinationStatus as _switchyard_v1_CoordinationStatus, CoordinationStatus__Output as _switchyard_v1_CoordinationStatus__Output } from '../../switchyard/v1/CoordinationStatus.js';
import type { Long } from '@grpc/proto-loader';

export interface ClusterStatus {
  'devices'?: (_switchyard_v1_DeviceStatus)[];
  'apparatuses'?: (_switchyard_v1_ApparatusSummary)[];
  /**
   * Absent while no controller holds the lease. Its epoch is the fencing
   * token: an etcd revision when the backend is etcd.
   */
  'controller'?: (_switchyard_v1_ControllerSummary | null);
  'generation'?: (number | string | Long);
  'coordination'?: (_switchyard_v1_CoordinationStatus | null);
}

export interface ClusterStatus__Output {
  'devices': (_switchyard_v1_DeviceStatus__Output)[];
  'apparatuses': (_switchyard_v1_ApparatusSummary__Output)[];
  /**
   * Absent while no controller holds the lease. Its epoch is the fencing
   * token: an etcd revision when the backend is etcd.
   */
  'controller': (_switchyard_v1_ControllerSummary__Output | null);
  'generation': (number);
  'coordination': (_switchyard_v1_CoordinationStatus__Output | null);
}
