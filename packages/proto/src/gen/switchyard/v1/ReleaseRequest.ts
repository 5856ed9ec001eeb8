// Original file: proto/switchyard/v1/apparatus.proto

import type { Long } from '@grpc/proto-loader';

export interface ReleaseRequest {
  'change_id'?: (string);
  'epoch'?: (number | string | Long);
}

export interface ReleaseRequest__Output {
  'change_id': (string);
  'epoch': (number);
}
