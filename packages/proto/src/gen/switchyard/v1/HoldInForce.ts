// Original file: proto/switchyard/v1/apparatus.proto

import type { VolumeRange as _switchyard_v1_VolumeRange, VolumeRange__Output as _switchyard_v1_VolumeRange__Output } from '../../switchyard/v1/VolumeRange.js';
import type { HoldMode as _switchyard_v1_HoldMode, HoldMode__Output as _switchyard_v1_HoldMode__Output } from '../../switchyard/v1/HoldMode.js';

export interface HoldInForce {
  'change_id'?: (string);
  'ranges'?: (_switchyard_v1_VolumeRange)[];
  'mode'?: (_switchyard_v1_HoldMode);
  'held_requests'?: (number);
}

export interface HoldInForce__Output {
  'change_id': (string);
  'ranges': (_switchyard_v1_VolumeRange__Output)[];
  'mode': (_switchyard_v1_HoldMode__Output);
  'held_requests': (number);
}
