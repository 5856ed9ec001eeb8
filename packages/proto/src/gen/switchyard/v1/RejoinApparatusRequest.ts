// Original file: proto/switchyard/v1/controller.proto


export interface RejoinApparatusRequest {
  'apparatus_id'?: (string);
}

export interface RejoinApparatusRequest__Output {
  'apparatus_id': (string);
}
