// Original file: proto/switchyard/v1/table.proto

import type { LogicalUnit as _switchyard_v1_LogicalUnit, LogicalUnit__Output as _switchyard_v1_LogicalUnit__Output } from '../../switchyard/v1/LogicalUnit.js';
import type { VolumeTable as _switchyard_v1_VolumeTable, VolumeTable__Output as _switchyard_v1_VolumeTable__Output } from '../../switchyard/v1/VolumeTable.js';
import type { Long } from '@grpc/proto-loader';

export interface ConfigurationTable {
  'generation'?: (number | string | Long);
  'lus'?: (_switchyard_v1_LogicalUnit)[];
  'volumes'?: (_switchyard_v1_VolumeTable)[];
}

export interface ConfigurationTable__Output {
  'generation': (number);
  'lus': (_switchyard_v1_LogicalUnit__Output)[];
  'volumes': (_switchyard_v1_VolumeTable__Output)[];
}
