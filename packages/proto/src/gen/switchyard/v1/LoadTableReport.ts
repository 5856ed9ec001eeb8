// Original file: proto/switchyard/v1/apparatus.proto

import type { Long } from '@grpc/proto-loader';

export interface LoadTableReport {
  'apparatus_id'?: (string);
  'generation'?: (number | string | Long);
}

export interface LoadTableReport__Output {
  'apparatus_id': (string);
  'generation': (number);
}
