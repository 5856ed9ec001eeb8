// Original file: proto/switchyard/v1/controller.proto


export interface RemoveExternalDeviceRequest {
  'name'?: (string);
}

export interface RemoveExternalDeviceRequest__Output {
  'name': (string);
}
