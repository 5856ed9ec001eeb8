// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface LogicalUnitInventory {
  'id'?: (string);
  'size_bytes'?: (number | string | Long);
  'extent_size_bytes'?: (number | string | Long);
  'areas_total'?: (number);
  'areas_free'?: (number);
  /**
   * The NBD export this LU is served as, on the device's NBD address.
   */
  'export_name'?: (string);
}

export interface LogicalUnitInventory__Output {
  'id': (string);
  'size_bytes': (number);
  'extent_size_bytes': (number);
  'areas_total': (number);
  'areas_free': (number);
  /**
   * The NBD export this LU is served as, on the device's NBD address.
   */
  'export_name': (string);
}
