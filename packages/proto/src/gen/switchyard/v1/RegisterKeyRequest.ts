// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface RegisterKeyRequest {
  'epoch'?: (number | string | Long);
  'apparatus_id'?: (string);
  'registration_key'?: (string);
}

export interface RegisterKeyRequest__Output {
  'epoch': (number);
  'apparatus_id': (string);
  'registration_key': (string);
}
