// Original file: proto/switchyard/v1/controller.proto

import type { Long } from '@grpc/proto-loader';

export interface AddExternalDeviceRequest {
  'name'?: (string);
  'nbd_uri'?: (string);
  /**
   * The storage area size its LU is cut into; 0: the cluster's (the first LU's).
   */
  'extent_size_bytes'?: (number | string | Long);
}

export interface AddExternalDeviceRequest__Output {
  'name': (string);
  'nbd_uri': (string);
  /**
   * The storage area size its LU is cut into; 0: the cluster's (the first LU's).
   */
  'extent_size_bytes': (number);
}
