// Original file: proto/switchyard/v1/device.proto


export interface ListMirrorsRequest {
}

export interface ListMirrorsRequest__Output {
}
