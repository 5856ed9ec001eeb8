// Original file: proto/switchyard/v1/store.proto


export interface ExternalDevice {
  'id'?: (string);
  'nbd_uri'?: (string);
}

export interface ExternalDevice__Output {
  'id': (string);
  'nbd_uri': (string);
}
