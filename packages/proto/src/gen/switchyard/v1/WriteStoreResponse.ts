// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface WriteStoreResponse {
  'sequence'?: (number | string | Long);
}

export interface WriteStoreResponse__Output {
  'sequence': (number);
}
