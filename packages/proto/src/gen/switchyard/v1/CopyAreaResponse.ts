// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface CopyAreaResponse {
  'copied_bytes'?: (number | string | Long);
}

export interface CopyAreaResponse__Output {
  'copied_bytes': (number);
}
