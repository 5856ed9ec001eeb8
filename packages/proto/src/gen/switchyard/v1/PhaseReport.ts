// Original file: proto/switchyard/v1/controller.proto


export interface PhaseReport {
  'phase'?: (string);
  'apparatus_id'?: (string);
  'ok'?: (boolean);
  'message'?: (string);
  'elapsed_ms'?: (number);
}

export interface PhaseReport__Output {
  'phase': (string);
  'apparatus_id': (string);
  'ok': (boolean);
  'message': (string);
  'elapsed_ms': (number);
}
