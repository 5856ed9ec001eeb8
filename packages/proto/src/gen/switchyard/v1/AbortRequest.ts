// Original file: proto/switchyard/v1/apparatus.proto

import type { Long } from '@grpc/proto-loader';

export interface AbortRequest {
  'change_id'?: (string);
  'epoch'?: (number | string | Long);
}

export interface AbortRequest__Output {
  'change_id': (string);
  'epoch': (number);
}
