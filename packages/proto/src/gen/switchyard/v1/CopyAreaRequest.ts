// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface CopyAreaRequest {
  'epoch'?: (number | string | Long);
  'source_lu_id'?: (string);
  'source_area_index'?: (number);
  'destination_lu_id'?: (string);
  'destination_area_index'?: (number);
  'offset_bytes'?: (number | string | Long);
  'length_bytes'?: (number | string | Long);
}

export interface CopyAreaRequest__Output {
  'epoch': (number);
  'source_lu_id': (string);
  'source_area_index': (number);
  'destination_lu_id': (string);
  'destination_area_index': (number);
  'offset_bytes': (number);
  'length_bytes': (number);
}
