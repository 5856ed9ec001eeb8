// Original file: proto/switchyard/v1/device.proto

import type { Long } from '@grpc/proto-loader';

export interface Lease {
  'holder_id'?: (string);
  'holder_address'?: (string);
  'epoch'?: (number | string | Long);
  /**
   * On the arbiter's clock; a holder must stop acting before it, measured on
   * its own clock from when it asked.
   */
  'expires_at_ms'?: (number | string | Long);
  'lease_ms'?: (number);
  'granted'?: (boolean);
}

export interface Lease__Output {
  'holder_id': (string);
  'holder_address': (string);
  'epoch': (number);
  /**
   * On the arbiter's clock; a holder must stop acting before it, measured on
   * its own clock from when it asked.
   */
  'expires_at_ms': (number);
  'lease_ms': (number);
  'granted': (boolean);
}
