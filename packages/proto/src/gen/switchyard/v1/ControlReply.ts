// Original file: proto/switchyard/v1/apparatus.proto

import type { HoldReport as _switchyard_v1_HoldReport, HoldReport__Output as _switchyard_v1_HoldReport__Output } from '../../switchyard/v1/HoldReport.js';
import type { ApplyReport as _switchyard_v1_ApplyReport, ApplyReport__Output as _switchyard_v1_ApplyReport__Output } from '../../switchyard/v1/ApplyReport.js';
import type { ReleaseReport as _switchyard_v1_ReleaseReport, ReleaseReport__Output as _switchyard_v1_ReleaseReport__Output } from '../../switchyard/v1/ReleaseReport.js';
import type { AbortReport as _switchyard_v1_AbortReport, AbortReport__Output as _switchyard_v1_AbortReport__Output } from '../../switchyard/v1/AbortReport.js';
import type { ControlFailure as _switchyard_v1_ControlFailure, ControlFailure__Output as _switchyard_v1_ControlFailure__Output } from '../../switchyard/v1/ControlFailure.js';
import type { Long } from '@grpc/proto-loader';

/**
 * The answer to the ControlRequest of the same sequence: the report its unary
 * call returns, or its failure.
 */
export interface ControlReply {
  'sequence'?: (number | string | Long);
  'hold'?: (_switchyard_v1_HoldReport | null);
  'apply'?: (_switchyard_v1_ApplyReport | null);
  'release'?: (_switchyard_v1_ReleaseReport | null);
  'abort'?: (_switchyard_v1_AbortReport | null);
  'failure'?: (_switchyard_v1_ControlFailure | null);
  'reply'?: "hold"|"apply"|"release"|"abort"|"failure";
}

/**
 * The answer to the ControlRequest of the same sequence: the report its unary
 * call returns, or its failure.
 */
export interface ControlReply__Output {
  'sequence': (number);
  'hold'?: (_switchyard_v1_HoldReport__Output | null);
  'apply'?: (_switchyard_v1_ApplyReport__Output | null);
  'release'?: (_switchyard_v1_ReleaseReport__Output | null);
  'abort'?: (_switchyard_v1_AbortReport__Output | null);
  'failure'?: (_switchyard_v1_ControlFailure__Output | null);
  'reply'?: "hold"|"apply"|"release"|"abort"|"failure";
}
