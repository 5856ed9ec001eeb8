// Original file: proto/switchyard/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface ControllerSummary {
  'id'?: (string);
  'epoch'?: (number | string | Long);
  'lease_expires_at_ms'?: (number | string | Long);
}

export interface ControllerSummary__Output {
  'id': (string);
  'epoch': (number);
  'lease_expires_at_ms': (number);
}
