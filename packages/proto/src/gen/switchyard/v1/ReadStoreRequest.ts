// Original file: proto/switchyard/v1/device.proto


export interface ReadStoreRequest {
}

export interface ReadStoreRequest__Output {
}
