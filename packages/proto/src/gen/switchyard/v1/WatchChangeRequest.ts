// Original file: proto/switchyard/v1/controller.proto


export interface WatchChangeRequest {
  'id'?: (string);
}

export interface WatchChangeRequest__Output {
  'id': (string);
}
