// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface LeaseHolder {
  'holder_id'?: (string);
  'epoch'?: (number | string | Long);
}

export interface LeaseHolder__Output {
  'holder_id': (string);
  'epoch': (number);
}
