// Original file: proto/switchyard/v1/controller.proto

import type { LogicalUnitStatus as _switchyard_v1_LogicalUnitStatus, LogicalUnitStatus__Output as _switchyard_v1_LogicalUnitStatus__Output } from '../../switchyard/v1/LogicalUnitStatus.js';

export interface DeviceStatus {
  'id'?: (string);
  'grpc'?: (string);
  'lus'?: (_switchyard_v1_LogicalUnitStatus)[];
}

export interface DeviceStatus__Output {
  'id': (string);
  'grpc': (string);
  'lus': (_switchyard_v1_LogicalUnitStatus__Output)[];
}
