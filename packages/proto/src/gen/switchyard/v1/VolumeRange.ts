// Original file: proto/switchyard/v1/apparatus.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A byte range of one volume. length_bytes 0 means to the end of the volume.
 */
export interface VolumeRange {
  'volume'?: (string);
  'offset_bytes'?: (number | string | Long);
  'length_bytes'?: (number | string | Long);
}

/**
 * A byte range of one volume. length_bytes 0 means to the end of the volume.
 */
export interface VolumeRange__Output {
  'volume': (string);
  'offset_bytes': (number);
  'length_bytes': (number);
}
