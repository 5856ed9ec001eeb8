// Original file: proto/switchyard/v1/device.proto


export interface FenceResponse {
}

export interface FenceResponse__Output {
}
