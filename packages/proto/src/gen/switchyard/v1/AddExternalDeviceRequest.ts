// Original file: proto/switchyard/v1/controller.proto


export interface AddExternalDeviceRequest {
  'name'?: (string);
  'nbd_uri'?: (string);
}

export interface AddExternalDeviceRequest__Output {
  'name': (string);
  'nbd_uri': (string);
}
