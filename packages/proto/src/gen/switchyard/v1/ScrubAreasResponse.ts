// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface ScrubAreasResponse {
  /**
   * Bytes that held data and were overwritten with zeroes.
   */
  'zeroed_bytes'?: (number | string | Long);
}

export interface ScrubAreasResponse__Output {
  /**
   * Bytes that held data and were overwritten with zeroes.
   */
  'zeroed_bytes': (number);
}
