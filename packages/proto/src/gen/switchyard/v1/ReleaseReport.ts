// Original file: proto/switchyard/v1/apparatus.proto


export interface ReleaseReport {
  'apparatus_id'?: (string);
  'change_id'?: (string);
  'released_requests'?: (number);
}

export interface ReleaseReport__Output {
  'apparatus_id': (string);
  'change_id': (string);
  'released_requests': (number);
}
