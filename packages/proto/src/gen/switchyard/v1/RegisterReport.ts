// Original file: proto/switchyard/v1/apparatus.proto

import type { Long } from '@grpc/proto-loader';

export interface RegisterReport {
  'apparatus_id'?: (string);
  'generation'?: (number | string | Long);
}

export interface RegisterReport__Output {
  'apparatus_id': (string);
  'generation': (number);
}
