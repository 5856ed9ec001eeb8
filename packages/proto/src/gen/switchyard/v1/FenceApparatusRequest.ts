// Original file: proto/switchyard/v1/controller.proto


export interface FenceApparatusRequest {
  'apparatus_id'?: (string);
}

export interface FenceApparatusRequest__Output {
  'apparatus_id': (string);
}
