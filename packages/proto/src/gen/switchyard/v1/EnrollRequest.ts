// Original file: proto/switchyard/v1/device.proto

import type { ApparatusRecord as _switchyard_v1_ApparatusRecord, ApparatusRecord__Output as _switchyard_v1_ApparatusRecord__Output } from '../../switchyard/v1/ApparatusRecord.js';

/**
 * An apparatus started on its own (`switchyard apparatus serve`) makes
 * itself known: the controller finds it in the store and takes it into the
 * control range.
 */
export interface EnrollRequest {
  'apparatus'?: (_switchyard_v1_ApparatusRecord | null);
}

/**
 * An apparatus started on its own (`switchyard apparatus serve`) makes
 * itself known: the controller finds it in the store and takes it into the
 * control range.
 */
export interface EnrollRequest__Output {
  'apparatus': (_switchyard_v1_ApparatusRecord__Output | null);
}
