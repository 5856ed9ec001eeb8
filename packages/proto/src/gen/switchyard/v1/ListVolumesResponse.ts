// Original file: proto/switchyard/v1/controller.proto

import type { VolumeInfo as _switchyard_v1_VolumeInfo, VolumeInfo__Output as _switchyard_v1_VolumeInfo__Output } from '../../switchyard/v1/VolumeInfo.js';

export interface ListVolumesResponse {
  'volumes'?: (_switchyard_v1_VolumeInfo)[];
}

export interface ListVolumesResponse__Output {
  'volumes': (_switchyard_v1_VolumeInfo__Output)[];
}
