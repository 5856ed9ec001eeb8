// Original file: proto/switchyard/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface Migrate {
  'volume'?: (string);
  'to_lu'?: (string);
  'first_extent'?: (number);
  /**
   * Exclusive; 0 means to the last extent.
   */
  'end_extent'?: (number);
  'rate_bytes_per_second'?: (number | string | Long);
}

export interface Migrate__Output {
  'volume': (string);
  'to_lu': (string);
  'first_extent': (number);
  /**
   * Exclusive; 0 means to the last extent.
   */
  'end_extent': (number);
  'rate_bytes_per_second': (number);
}
