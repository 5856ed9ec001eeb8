// Original file: proto/switchyard/v1/apparatus.proto

import type { HoldRequest as _switchyard_v1_HoldRequest, HoldRequest__Output as _switchyard_v1_HoldRequest__Output } from '../../switchyard/v1/HoldRequest.js';
import type { ApplyRequest as _switchyard_v1_ApplyRequest, ApplyRequest__Output as _switchyard_v1_ApplyRequest__Output } from '../../switchyard/v1/ApplyRequest.js';
import type { ReleaseRequest as _switchyard_v1_ReleaseRequest, ReleaseRequest__Output as _switchyard_v1_ReleaseRequest__Output } from '../../switchyard/v1/ReleaseRequest.js';
import type { AbortRequest as _switchyard_v1_AbortRequest, AbortRequest__Output as _switchyard_v1_AbortRequest__Output } from '../../switchyard/v1/AbortRequest.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One message of the change protocol on the Control stream: one of Hold,
 * Apply, Release or Abort, numbered by the controller so that it can match
 * the answer to it.
 */
export interface ControlRequest {
  'sequence'?: (number | string | Long);
  'hold'?: (_switchyard_v1_HoldRequest | null);
  'apply'?: (_switchyard_v1_ApplyRequest | null);
  'release'?: (_switchyard_v1_ReleaseRequest | null);
  'abort'?: (_switchyard_v1_AbortRequest | null);
  'request'?: "hold"|"apply"|"release"|"abort";
}

/**
 * One message of the change protocol on the Control stream: one of Hold,
 * Apply, Release or Abort, numbered by the controller so that it can match
 * the answer to it.
 */
export interface ControlRequest__Output {
  'sequence': (number);
  'hold'?: (_switchyard_v1_HoldRequest__Output | null);
  'apply'?: (_switchyard_v1_ApplyRequest__Output | null);
  'release'?: (_switchyard_v1_ReleaseRequest__Output | null);
  'abort'?: (_switchyard_v1_AbortRequest__Output | null);
  'request'?: "hold"|"apply"|"release"|"abort";
}
