// Original file: proto/switchyard/v1/device.proto


/**
 * An apparatus renews the registration its controller gave it. The apparatus
 * serves host I/O only until the time it sent its last granted renewal plus
 * its lease: once fenced, it cannot renew, so the controller knows that a
 * lease after the fence it no longer serves.
 */
export interface RenewRegistrationRequest {
  'apparatus_id'?: (string);
  'registration_key'?: (string);
}

/**
 * An apparatus renews the registration its controller gave it. The apparatus
 * serves host I/O only until the time it sent its last granted renewal plus
 * its lease: once fenced, it cannot renew, so the controller knows that a
 * lease after the fence it no longer serves.
 */
export interface RenewRegistrationRequest__Output {
  'apparatus_id': (string);
  'registration_key': (string);
}
