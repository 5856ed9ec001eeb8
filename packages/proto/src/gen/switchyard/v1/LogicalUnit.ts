// Original file: proto/switchyard/v1/table.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A logical unit of a storage device, cut into storage areas of one extent
 * size. Extent rows refer to it by `index`, its stable position in the
 * cluster's list of logical units.
 */
export interface LogicalUnit {
  'index'?: (number);
  'id'?: (string);
  'device_id'?: (string);
  'size_bytes'?: (number | string | Long);
  'extent_size_bytes'?: (number | string | Long);
  /**
   * Where an apparatus outside the device's process reaches it:
   * nbd://host:port/export.
   */
  'nbd_uri'?: (string);
  /**
   * Served by a third-party NBD server (`device add-external`), not by a
   * Switchyard device: apparatuses open its plain export name (the server
   * knows no registration keys), and the controller streams copies to and
   * from it instead of asking a device to copy.
   */
  'external'?: (boolean);
}

/**
 * A logical unit of a storage device, cut into storage areas of one extent
 * size. Extent rows refer to it by `index`, its stable position in the
 * cluster's list of logical units.
 */
export interface LogicalUnit__Output {
  'index': (number);
  'id': (string);
  'device_id': (string);
  'size_bytes': (number);
  'extent_size_bytes': (number);
  /**
   * Where an apparatus outside the device's process reaches it:
   * nbd://host:port/export.
   */
  'nbd_uri': (string);
  /**
   * Served by a third-party NBD server (`device add-external`), not by a
   * Switchyard device: apparatuses open its plain export name (the server
   * knows no registration keys), and the controller streams copies to and
   * from it instead of asking a device to copy.
   */
  'external': (boolean);
}
