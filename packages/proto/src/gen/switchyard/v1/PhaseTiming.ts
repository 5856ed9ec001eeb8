// Original file: proto/switchyard/v1/store.proto

import type { Long } from '@grpc/proto-loader';

export interface PhaseTiming {
  'phase'?: (string);
  'started_at_ms'?: (number | string | Long);
  'elapsed_ms'?: (number);
}

export interface PhaseTiming__Output {
  'phase': (string);
  'started_at_ms': (number);
  'elapsed_ms': (number);
}
