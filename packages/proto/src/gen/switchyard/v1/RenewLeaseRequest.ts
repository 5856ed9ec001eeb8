// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface RenewLeaseRequest {
  'holder_id'?: (string);
  'epoch'?: (number | string | Long);
  'lease_ms'?: (number);
}

export interface RenewLeaseRequest__Output {
  'holder_id': (string);
  'epoch': (number);
  'lease_ms': (number);
}
