// Original file: proto/switchyard/v1/device.proto

import type { RegistrationStatus as _switchyard_v1_RegistrationStatus, RegistrationStatus__Output as _switchyard_v1_RegistrationStatus__Output } from '../../switchyard/v1/RegistrationStatus.js';

export interface RenewRegistrationResponse {
  'status'?: (_switchyard_v1_RegistrationStatus);
}

export interface RenewRegistrationResponse__Output {
  'status': (_switchyard_v1_RegistrationStatus__Output);
}
