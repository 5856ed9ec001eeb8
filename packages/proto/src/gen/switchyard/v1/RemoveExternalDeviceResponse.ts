// Original file: proto/switchyard/v1/controller.proto

import type { DeviceStatus as _switchyard_v1_DeviceStatus, DeviceStatus__Output as _switchyard_v1_DeviceStatus__Output } from '../../switchyard/v1/DeviceStatus.js';

export interface RemoveExternalDeviceResponse {
  /**
   * The device as it was listed before its removal.
   */
  'device'?: (_switchyard_v1_DeviceStatus | null);
}

export interface RemoveExternalDeviceResponse__Output {
  /**
   * The device as it was listed before its removal.
   */
  'device': (_switchyard_v1_DeviceStatus__Output | null);
}
