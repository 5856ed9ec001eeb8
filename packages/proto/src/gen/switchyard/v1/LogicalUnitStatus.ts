// Original file: proto/switchyard/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface LogicalUnitStatus {
  'id'?: (string);
  'size_bytes'?: (number | string | Long);
  'extent_size_bytes'?: (number | string | Long);
  'areas_total'?: (number);
  'areas_free'?: (number);
}

export interface LogicalUnitStatus__Output {
  'id': (string);
  'size_bytes': (number);
  'extent_size_bytes': (number);
  'areas_total': (number);
  'areas_free': (number);
}
