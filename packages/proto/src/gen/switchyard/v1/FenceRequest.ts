// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface FenceRequest {
  'epoch'?: (number | string | Long);
  'apparatus_id'?: (string);
}

export interface FenceRequest__Output {
  'epoch': (number);
  'apparatus_id': (string);
}
