// Original file: proto/switchyard/v1/apparatus.proto


export interface HoldReport {
  'apparatus_id'?: (string);
  'change_id'?: (string);
  'drained_requests'?: (number);
  'drain_ms'?: (number);
}

export interface HoldReport__Output {
  'apparatus_id': (string);
  'change_id': (string);
  'drained_requests': (number);
  'drain_ms': (number);
}
