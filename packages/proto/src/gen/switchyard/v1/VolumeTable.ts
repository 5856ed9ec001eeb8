// Original file: proto/switchyard/v1/table.proto

import type { ExtentColumns as _switchyard_v1_ExtentColumns, ExtentColumns__Output as _switchyard_v1_ExtentColumns__Output } from '../../switchyard/v1/ExtentColumns.js';
import type { Long } from '@grpc/proto-loader';

export interface VolumeTable {
  'name'?: (string);
  'size_bytes'?: (number | string | Long);
  'extent_size_bytes'?: (number | string | Long);
  'extents'?: (_switchyard_v1_ExtentColumns | null);
}

export interface VolumeTable__Output {
  'name': (string);
  'size_bytes': (number);
  'extent_size_bytes': (number);
  'extents': (_switchyard_v1_ExtentColumns__Output | null);
}
