// Original file: proto/switchyard/v1/controller.proto

import type { ExtentPlacement as _switchyard_v1_ExtentPlacement, ExtentPlacement__Output as _switchyard_v1_ExtentPlacement__Output } from '../../switchyard/v1/ExtentPlacement.js';
import type { Long } from '@grpc/proto-loader';

export interface VolumeInfo {
  'name'?: (string);
  'size_bytes'?: (number | string | Long);
  'extent_size_bytes'?: (number | string | Long);
  'extents'?: (_switchyard_v1_ExtentPlacement)[];
}

export interface VolumeInfo__Output {
  'name': (string);
  'size_bytes': (number);
  'extent_size_bytes': (number);
  'extents': (_switchyard_v1_ExtentPlacement__Output)[];
}
