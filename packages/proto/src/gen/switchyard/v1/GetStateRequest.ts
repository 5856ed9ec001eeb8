// Original file: proto/switchyard/v1/apparatus.proto


export interface GetStateRequest {
}

export interface GetStateRequest__Output {
}
