// Original file: proto/switchyard/v1/apparatus.proto

import type { VolumeRange as _switchyard_v1_VolumeRange, VolumeRange__Output as _switchyard_v1_VolumeRange__Output } from '../../switchyard/v1/VolumeRange.js';
import type { HoldMode as _switchyard_v1_HoldMode, HoldMode__Output as _switchyard_v1_HoldMode__Output } from '../../switchyard/v1/HoldMode.js';
import type { Long } from '@grpc/proto-loader';

export interface HoldRequest {
  'change_id'?: (string);
  'epoch'?: (number | string | Long);
  'base_generation'?: (number | string | Long);
  'ranges'?: (_switchyard_v1_VolumeRange)[];
  'mode'?: (_switchyard_v1_HoldMode);
}

export interface HoldRequest__Output {
  'change_id': (string);
  'epoch': (number);
  'base_generation': (number);
  'ranges': (_switchyard_v1_VolumeRange__Output)[];
  'mode': (_switchyard_v1_HoldMode__Output);
}
