// Original file: proto/switchyard/v1/controller.proto

import type { MoveExtent as _switchyard_v1_MoveExtent, MoveExtent__Output as _switchyard_v1_MoveExtent__Output } from '../../switchyard/v1/MoveExtent.js';
import type { ResizeVolume as _switchyard_v1_ResizeVolume, ResizeVolume__Output as _switchyard_v1_ResizeVolume__Output } from '../../switchyard/v1/ResizeVolume.js';
import type { Migrate as _switchyard_v1_Migrate, Migrate__Output as _switchyard_v1_Migrate__Output } from '../../switchyard/v1/Migrate.js';

export interface SubmitChangeRequest {
  'move'?: (_switchyard_v1_MoveExtent | null);
  'resize'?: (_switchyard_v1_ResizeVolume | null);
  'migrate'?: (_switchyard_v1_Migrate | null);
  'change'?: "move"|"resize"|"migrate";
}

export interface SubmitChangeRequest__Output {
  'move'?: (_switchyard_v1_MoveExtent__Output | null);
  'resize'?: (_switchyard_v1_ResizeVolume__Output | null);
  'migrate'?: (_switchyard_v1_Migrate__Output | null);
  'change'?: "move"|"resize"|"migrate";
}
