// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface StopMirrorRequest {
  'epoch'?: (number | string | Long);
  'volume'?: (string);
  'extent_index'?: (number);
}

export interface StopMirrorRequest__Output {
  'epoch': (number);
  'volume': (string);
  'extent_index': (number);
}
