// Original file: proto/switchyard/v1/controller.proto


export interface GetVolumeRequest {
  'name'?: (string);
}

export interface GetVolumeRequest__Output {
  'name': (string);
}
