// Original file: proto/switchyard/v1/apparatus.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The controller takes an apparatus into its control range, with the
 * registration key the device knows it by and its lease: the apparatus
 * renews the registration with the device, and stops serving a lease after
 * the last renewal it sent that was granted.
 */
export interface RegisterRequest {
  'epoch'?: (number | string | Long);
  'registration_key'?: (string);
  'lease_ms'?: (number);
  /**
   * The device the apparatus renews with (host:port).
   */
  'device_address'?: (string);
}

/**
 * The controller takes an apparatus into its control range, with the
 * registration key the device knows it by and its lease: the apparatus
 * renews the registration with the device, and stops serving a lease after
 * the last renewal it sent that was granted.
 */
export interface RegisterRequest__Output {
  'epoch': (number);
  'registration_key': (string);
  'lease_ms': (number);
  /**
   * The device the apparatus renews with (host:port).
   */
  'device_address': (string);
}
