// Original file: proto/switchyard/v1/device.proto

import type { LogicalUnitInventory as _switchyard_v1_LogicalUnitInventory, LogicalUnitInventory__Output as _switchyard_v1_LogicalUnitInventory__Output } from '../../switchyard/v1/LogicalUnitInventory.js';

export interface Inventory {
  'device_id'?: (string);
  'grpc_address'?: (string);
  'nbd_address'?: (string);
  'lus'?: (_switchyard_v1_LogicalUnitInventory)[];
}

export interface Inventory__Output {
  'device_id': (string);
  'grpc_address': (string);
  'nbd_address': (string);
  'lus': (_switchyard_v1_LogicalUnitInventory__Output)[];
}
