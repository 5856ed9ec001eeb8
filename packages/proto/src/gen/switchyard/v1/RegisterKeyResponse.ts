// Original file: proto/switchyard/v1/device.proto


export interface RegisterKeyResponse {
}

export interface RegisterKeyResponse__Output {
}
