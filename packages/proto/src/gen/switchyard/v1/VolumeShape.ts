// Original file: proto/switchyard/v1/table.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A change of a volume's shape: created, resized or deleted. Rows for new
 * extents follow in DifferenceTable.rows.
 */
export interface VolumeShape {
  'name'?: (string);
  'size_bytes'?: (number | string | Long);
  'extent_size_bytes'?: (number | string | Long);
  'extent_count'?: (number);
  'deleted'?: (boolean);
}

/**
 * A change of a volume's shape: created, resized or deleted. Rows for new
 * extents follow in DifferenceTable.rows.
 */
export interface VolumeShape__Output {
  'name': (string);
  'size_bytes': (number);
  'extent_size_bytes': (number);
  'extent_count': (number);
  'deleted': (boolean);
}
