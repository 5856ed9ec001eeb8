// Original file: proto/switchyard/v1/store.proto


/**
 * One apparatus's answer to one phase of a change.
 */
export interface PhaseReport {
  'phase'?: (string);
  'apparatus_id'?: (string);
  'ok'?: (boolean);
  'message'?: (string);
  'elapsed_ms'?: (number);
}

/**
 * One apparatus's answer to one phase of a change.
 */
export interface PhaseReport__Output {
  'phase': (string);
  'apparatus_id': (string);
  'ok': (boolean);
  'message': (string);
  'elapsed_ms': (number);
}
