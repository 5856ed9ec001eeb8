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
  /**
   * Reads, writes and flushes of its file that failed since the device
   * opened, and the newest failure: its message and when (the device's wall
   * clock, ms since the epoch; 0 before any). The controller records a newer
   * failure as a disk-fault event in the journal.
   */
  'io_errors_total'?: (number | string | Long);
  'last_io_error'?: (string);
  'last_io_error_at_ms'?: (number | string | Long);
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
  /**
   * Reads, writes and flushes of its file that failed since the device
   * opened, and the newest failure: its message and when (the device's wall
   * clock, ms since the epoch; 0 before any). The controller records a newer
   * failure as a disk-fault event in the journal.
   */
  'io_errors_total': (number);
  'last_io_error': (string);
  'last_io_error_at_ms': (number);
}
