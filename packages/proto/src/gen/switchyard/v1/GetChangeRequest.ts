// Original file: proto/switchyard/v1/controller.proto


export interface GetChangeRequest {
  'id'?: (string);
}

export interface GetChangeRequest__Output {
  'id': (string);
}
