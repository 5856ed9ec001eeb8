// Original file: proto/switchyard/v1/device.proto


export interface EnrollResponse {
}

export interface EnrollResponse__Output {
}
