// Original file: proto/switchyard/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface ResizeVolume {
  'volume'?: (string);
  'size_bytes'?: (number | string | Long);
}

export interface ResizeVolume__Output {
  'volume': (string);
  'size_bytes': (number);
}
