// Original file: proto/switchyard/v1/device.proto

export const RegistrationStatus = {
  REGISTRATION_STATUS_UNSPECIFIED: 'REGISTRATION_STATUS_UNSPECIFIED',
  REGISTRATION_STATUS_GRANTED: 'REGISTRATION_STATUS_GRANTED',
  /**
   * Removed from the control range: stop serving until the controller registers it again.
   */
  REGISTRATION_STATUS_FENCED: 'REGISTRATION_STATUS_FENCED',
  /**
   * The device does not know this key (for example after it restarted): not renewed.
   */
  REGISTRATION_STATUS_UNKNOWN: 'REGISTRATION_STATUS_UNKNOWN',
} as const;

export type RegistrationStatus =
  | 'REGISTRATION_STATUS_UNSPECIFIED'
  | 0
  | 'REGISTRATION_STATUS_GRANTED'
  | 1
  /**
   * Removed from the control range: stop serving until the controller registers it again.
   */
  | 'REGISTRATION_STATUS_FENCED'
  | 2
  /**
   * The device does not know this key (for example after it restarted): not renewed.
   */
  | 'REGISTRATION_STATUS_UNKNOWN'
  | 3

export type RegistrationStatus__Output = typeof RegistrationStatus[keyof typeof RegistrationStatus]
