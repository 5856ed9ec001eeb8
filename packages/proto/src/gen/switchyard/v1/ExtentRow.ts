// Original file: proto/switchyard/v1/table.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One changed row of an extent map.
 */
export interface ExtentRow {
  'volume'?: (string);
  'extent_index'?: (number);
  'lu_index'?: (number);
  'area_index'?: (number);
  'mirror_lu_index_plus_one'?: (number);
  'mirror_area_index'?: (number);
  'mirror_watermark_bytes'?: (number | string | Long);
}

/**
 * One changed row of an extent map.
 */
export interface ExtentRow__Output {
  'volume': (string);
  'extent_index': (number);
  'lu_index': (number);
  'area_index': (number);
  'mirror_lu_index_plus_one': (number);
  'mirror_area_index': (number);
  'mirror_watermark_bytes': (number);
}
