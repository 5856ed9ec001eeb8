// Original file: proto/switchyard/v1/apparatus.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The controller takes an apparatus into its control range, with the
 * registration key the device will accept its I/O under and the lease after
 * which it stops serving if it hears nothing from the controller.
 */
export interface RegisterRequest {
  'epoch'?: (number | string | Long);
  'registration_key'?: (string);
  'lease_ms'?: (number);
}

/**
 * The controller takes an apparatus into its control range, with the
 * registration key the device will accept its I/O under and the lease after
 * which it stops serving if it hears nothing from the controller.
 */
export interface RegisterRequest__Output {
  'epoch': (number);
  'registration_key': (string);
  'lease_ms': (number);
}
