// Original file: proto/switchyard/v1/controller.proto


export interface CancelChangeRequest {
  'id'?: (string);
}

export interface CancelChangeRequest__Output {
  'id': (string);
}
