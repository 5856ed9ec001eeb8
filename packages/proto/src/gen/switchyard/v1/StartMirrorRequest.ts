// Original file: proto/switchyard/v1/device.proto

import type { Mirror as _switchyard_v1_Mirror, Mirror__Output as _switchyard_v1_Mirror__Output } from '../../switchyard/v1/Mirror.js';
import type { Long } from '@grpc/proto-loader';

export interface StartMirrorRequest {
  'epoch'?: (number | string | Long);
  'mirror'?: (_switchyard_v1_Mirror | null);
}

export interface StartMirrorRequest__Output {
  'epoch': (number);
  'mirror': (_switchyard_v1_Mirror__Output | null);
}
