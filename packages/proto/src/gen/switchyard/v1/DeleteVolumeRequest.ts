// Original file: proto/switchyard/v1/controller.proto


export interface DeleteVolumeRequest {
  'name'?: (string);
}

export interface DeleteVolumeRequest__Output {
  'name': (string);
}
