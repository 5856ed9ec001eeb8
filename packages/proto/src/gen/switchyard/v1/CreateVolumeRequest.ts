// Original file: proto/switchyard/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface CreateVolumeRequest {
  'name'?: (string);
  'size_bytes'?: (number | string | Long);
  /**
   * Empty: the LU with the most free areas.
   */
  'lu'?: (string);
}

export interface CreateVolumeRequest__Output {
  'name': (string);
  'size_bytes': (number);
  /**
   * Empty: the LU with the most free areas.
   */
  'lu': (string);
}
