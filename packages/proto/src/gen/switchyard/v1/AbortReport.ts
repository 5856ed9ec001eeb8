// Original file: proto/switchyard/v1/apparatus.proto

import type { Long } from '@grpc/proto-loader';

export interface AbortReport {
  'apparatus_id'?: (string);
  'change_id'?: (string);
  'generation'?: (number | string | Long);
}

export interface AbortReport__Output {
  'apparatus_id': (string);
  'change_id': (string);
  'generation': (number);
}
