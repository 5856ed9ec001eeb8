// Original file: proto/switchyard/v1/controller.proto

import type { DeviceStatus as _switchyard_v1_DeviceStatus, DeviceStatus__Output as _switchyard_v1_DeviceStatus__Output } from '../../switchyard/v1/DeviceStatus.js';
import type { ApparatusSummary as _switchyard_v1_ApparatusSummary, ApparatusSummary__Output as _switchyard_v1_ApparatusSummary__Output } from '../../switchyard/v1/ApparatusSummary.js';
import type { ControllerSummary as _switchyard_v1_ControllerSummary, ControllerSummary__Output as _switchyard_v1_ControllerSummary__Output } from '../../switchyard/v1/ControllerSummary.js';
import type { Long } from '@grpc/proto-loader';

export interface ClusterStatus {
  'devices'?: (_switchyard_v1_DeviceStatus)[];
  'apparatuses'?: (_switchyard_v1_ApparatusSummary)[];
  /**
   * Absent while no controller holds the lease.
   */
  'controller'?: (_switchyard_v1_ControllerSummary | null);
  'generation'?: (number | string | Long);
}

export interface ClusterStatus__Output {
  'devices': (_switchyard_v1_DeviceStatus__Output)[];
  'apparatuses': (_switchyard_v1_ApparatusSummary__Output)[];
  /**
   * Absent while no controller holds the lease.
   */
  'controller': (_switchyard_v1_ControllerSummary__Output | null);
  'generation': (number);
}
