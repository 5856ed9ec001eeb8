// Original file: proto/switchyard/v1/apparatus.proto

import type { Long } from '@grpc/proto-loader';

export interface ApplyReport {
  'apparatus_id'?: (string);
  'change_id'?: (string);
  'generation'?: (number | string | Long);
  'active_face'?: (number);
}

export interface ApplyReport__Output {
  'apparatus_id': (string);
  'change_id': (string);
  'generation': (number);
  'active_face': (number);
}
