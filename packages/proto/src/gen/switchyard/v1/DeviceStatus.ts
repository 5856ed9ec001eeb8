// Original file: proto/switchyard/v1/controller.proto

import type { LogicalUnitStatus as _switchyard_v1_LogicalUnitStatus, LogicalUnitStatus__Output as _switchyard_v1_LogicalUnitStatus__Output } from '../../switchyard/v1/LogicalUnitStatus.js';

export interface DeviceStatus {
  'id'?: (string);
  /**
   * Empty for an external device: it has no Device service.
   */
  'grpc'?: (string);
  'lus'?: (_switchyard_v1_LogicalUnitStatus)[];
  /**
   * A third-party NBD server registered with `device add-external`.
   */
  'external'?: (boolean);
  /**
   * Where an external device is reached (nbd://host:port/export); empty otherwise.
   */
  'nbd_uri'?: (string);
}

export interface DeviceStatus__Output {
  'id': (string);
  /**
   * Empty for an external device: it has no Device service.
   */
  'grpc': (string);
  'lus': (_switchyard_v1_LogicalUnitStatus__Output)[];
  /**
   * A third-party NBD server registered with `device add-external`.
   */
  'external': (boolean);
  /**
   * Where an external device is reached (nbd://host:port/export); empty otherwise.
   */
  'nbd_uri': (string);
}
