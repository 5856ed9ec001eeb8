// Original file: proto/switchyard/v1/device.proto


export interface CopyExternalAreaResponse {
}

export interface CopyExternalAreaResponse__Output {
}
