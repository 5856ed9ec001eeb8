// Original file: proto/switchyard/v1/controller.proto


export interface ListChangesRequest {
}

export interface ListChangesRequest__Output {
}
