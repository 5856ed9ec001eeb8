// Original file: proto/switchyard/v1/controller.proto

import type { CoordinationMember as _switchyard_v1_CoordinationMember, CoordinationMember__Output as _switchyard_v1_CoordinationMember__Output } from '../../switchyard/v1/CoordinationMember.js';

/**
 * Where the election, the configuration store and registrations live (issue 18).
 */
export interface CoordinationStatus {
  /**
   * "embedded" (a device's arbiter and store) or "etcd".
   */
  'backend'?: (string);
  'members'?: (_switchyard_v1_CoordinationMember)[];
}

/**
 * Where the election, the configuration store and registrations live (issue 18).
 */
export interface CoordinationStatus__Output {
  /**
   * "embedded" (a device's arbiter and store) or "etcd".
   */
  'backend': (string);
  'members': (_switchyard_v1_CoordinationMember__Output)[];
}
