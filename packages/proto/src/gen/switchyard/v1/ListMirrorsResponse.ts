// Original file: proto/switchyard/v1/device.proto

import type { Mirror as _switchyard_v1_Mirror, Mirror__Output as _switchyard_v1_Mirror__Output } from '../../switchyard/v1/Mirror.js';

export interface ListMirrorsResponse {
  'mirrors'?: (_switchyard_v1_Mirror)[];
}

export interface ListMirrorsResponse__Output {
  'mirrors': (_switchyard_v1_Mirror__Output)[];
}
