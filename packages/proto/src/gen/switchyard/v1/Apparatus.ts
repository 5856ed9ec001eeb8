// Original file: proto/switchyard/v1/apparatus.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AbortReport as _switchyard_v1_AbortReport, AbortReport__Output as _switchyard_v1_AbortReport__Output } from '../../switchyard/v1/AbortReport.js';
import type { AbortRequest as _switchyard_v1_AbortRequest, AbortRequest__Output as _switchyard_v1_AbortRequest__Output } from '../../switchyard/v1/AbortRequest.js';
import type { ApparatusState as _switchyard_v1_ApparatusState, ApparatusState__Output as _switchyard_v1_ApparatusState__Output } from '../../switchyard/v1/ApparatusState.js';
import type { ApplyReport as _switchyard_v1_ApplyReport, ApplyReport__Output as _switchyard_v1_ApplyReport__Output } from '../../switchyard/v1/ApplyReport.js';
import type { ApplyRequest as _switchyard_v1_ApplyRequest, ApplyRequest__Output as _switchyard_v1_ApplyRequest__Output } from '../../switchyard/v1/ApplyRequest.js';
import type { ControlReply as _switchyard_v1_ControlReply, ControlReply__Output as _switchyard_v1_ControlReply__Output } from '../../switchyard/v1/ControlReply.js';
import type { ControlRequest as _switchyard_v1_ControlRequest, ControlRequest__Output as _switchyard_v1_ControlRequest__Output } from '../../switchyard/v1/ControlRequest.js';
import type { GetStateRequest as _switchyard_v1_GetStateRequest, GetStateRequest__Output as _switchyard_v1_GetStateRequest__Output } from '../../switchyard/v1/GetStateRequest.js';
import type { HoldReport as _switchyard_v1_HoldReport, HoldReport__Output as _switchyard_v1_HoldReport__Output } from '../../switchyard/v1/HoldReport.js';
import type { HoldRequest as _switchyard_v1_HoldRequest, HoldRequest__Output as _switchyard_v1_HoldRequest__Output } from '../../switchyard/v1/HoldRequest.js';
import type { LoadTableReport as _switchyard_v1_LoadTableReport, LoadTableReport__Output as _switchyard_v1_LoadTableReport__Output } from '../../switchyard/v1/LoadTableReport.js';
import type { LoadTableRequest as _switchyard_v1_LoadTableRequest, LoadTableRequest__Output as _switchyard_v1_LoadTableRequest__Output } from '../../switchyard/v1/LoadTableRequest.js';
import type { RegisterReport as _switchyard_v1_RegisterReport, RegisterReport__Output as _switchyard_v1_RegisterReport__Output } from '../../switchyard/v1/RegisterReport.js';
import type { RegisterRequest as _switchyard_v1_RegisterRequest, RegisterRequest__Output as _switchyard_v1_RegisterRequest__Output } from '../../switchyard/v1/RegisterRequest.js';
import type { ReleaseReport as _switchyard_v1_ReleaseReport, ReleaseReport__Output as _switchyard_v1_ReleaseReport__Output } from '../../switchyard/v1/ReleaseReport.js';
import type { ReleaseRequest as _switchyard_v1_ReleaseRequest, ReleaseRequest__Output as _switchyard_v1_ReleaseRequest__Output } from '../../switchyard/v1/ReleaseRequest.js';

export interface ApparatusClient extends grpc.Client {
  Abort(argument: _switchyard_v1_AbortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_AbortReport__Output>): grpc.ClientUnaryCall;
  Abort(argument: _switchyard_v1_AbortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_AbortReport__Output>): grpc.ClientUnaryCall;
  Abort(argument: _switchyard_v1_AbortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_AbortReport__Output>): grpc.ClientUnaryCall;
  Abort(argument: _switchyard_v1_AbortRequest, callback: grpc.requestCallback<_switchyard_v1_AbortReport__Output>): grpc.ClientUnaryCall;
  abort(argument: _switchyard_v1_AbortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_AbortReport__Output>): grpc.ClientUnaryCall;
  abort(argument: _switchyard_v1_AbortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_AbortReport__Output>): grpc.ClientUnaryCall;
  abort(argument: _switchyard_v1_AbortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_AbortReport__Output>): grpc.ClientUnaryCall;
  abort(argument: _switchyard_v1_AbortRequest, callback: grpc.requestCallback<_switchyard_v1_AbortReport__Output>): grpc.ClientUnaryCall;
  
  Apply(argument: _switchyard_v1_ApplyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApplyReport__Output>): grpc.ClientUnaryCall;
  Apply(argument: _switchyard_v1_ApplyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ApplyReport__Output>): grpc.ClientUnaryCall;
  Apply(argument: _switchyard_v1_ApplyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApplyReport__Output>): grpc.ClientUnaryCall;
  Apply(argument: _switchyard_v1_ApplyRequest, callback: grpc.requestCallback<_switchyard_v1_ApplyReport__Output>): grpc.ClientUnaryCall;
  apply(argument: _switchyard_v1_ApplyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApplyReport__Output>): grpc.ClientUnaryCall;
  apply(argument: _switchyard_v1_ApplyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ApplyReport__Output>): grpc.ClientUnaryCall;
  apply(argument: _switchyard_v1_ApplyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApplyReport__Output>): grpc.ClientUnaryCall;
  apply(argument: _switchyard_v1_ApplyRequest, callback: grpc.requestCallback<_switchyard_v1_ApplyReport__Output>): grpc.ClientUnaryCall;
  
  /**
   * Hold, Apply, Release and Abort on one long-lived stream per controller,
   * each handled exactly as its unary call (epochs, generations, repeats),
   * answered in whatever order they finish. It spares a controller a new
   * HTTP/2 stream per message; the unary calls stay for every other client.
   */
  Control(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_switchyard_v1_ControlRequest, _switchyard_v1_ControlReply__Output>;
  Control(options?: grpc.CallOptions): grpc.ClientDuplexStream<_switchyard_v1_ControlRequest, _switchyard_v1_ControlReply__Output>;
  /**
   * Hold, Apply, Release and Abort on one long-lived stream per controller,
   * each handled exactly as its unary call (epochs, generations, repeats),
   * answered in whatever order they finish. It spares a controller a new
   * HTTP/2 stream per message; the unary calls stay for every other client.
   */
  control(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_switchyard_v1_ControlRequest, _switchyard_v1_ControlReply__Output>;
  control(options?: grpc.CallOptions): grpc.ClientDuplexStream<_switchyard_v1_ControlRequest, _switchyard_v1_ControlReply__Output>;
  
  GetState(argument: _switchyard_v1_GetStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusState__Output>): grpc.ClientUnaryCall;
  GetState(argument: _switchyard_v1_GetStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ApparatusState__Output>): grpc.ClientUnaryCall;
  GetState(argument: _switchyard_v1_GetStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusState__Output>): grpc.ClientUnaryCall;
  GetState(argument: _switchyard_v1_GetStateRequest, callback: grpc.requestCallback<_switchyard_v1_ApparatusState__Output>): grpc.ClientUnaryCall;
  getState(argument: _switchyard_v1_GetStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusState__Output>): grpc.ClientUnaryCall;
  getState(argument: _switchyard_v1_GetStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ApparatusState__Output>): grpc.ClientUnaryCall;
  getState(argument: _switchyard_v1_GetStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ApparatusState__Output>): grpc.ClientUnaryCall;
  getState(argument: _switchyard_v1_GetStateRequest, callback: grpc.requestCallback<_switchyard_v1_ApparatusState__Output>): grpc.ClientUnaryCall;
  
  Hold(argument: _switchyard_v1_HoldRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_HoldReport__Output>): grpc.ClientUnaryCall;
  Hold(argument: _switchyard_v1_HoldRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_HoldReport__Output>): grpc.ClientUnaryCall;
  Hold(argument: _switchyard_v1_HoldRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_HoldReport__Output>): grpc.ClientUnaryCall;
  Hold(argument: _switchyard_v1_HoldRequest, callback: grpc.requestCallback<_switchyard_v1_HoldReport__Output>): grpc.ClientUnaryCall;
  hold(argument: _switchyard_v1_HoldRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_HoldReport__Output>): grpc.ClientUnaryCall;
  hold(argument: _switchyard_v1_HoldRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_HoldReport__Output>): grpc.ClientUnaryCall;
  hold(argument: _switchyard_v1_HoldRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_HoldReport__Output>): grpc.ClientUnaryCall;
  hold(argument: _switchyard_v1_HoldRequest, callback: grpc.requestCallback<_switchyard_v1_HoldReport__Output>): grpc.ClientUnaryCall;
  
  LoadTable(argument: _switchyard_v1_LoadTableRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_LoadTableReport__Output>): grpc.ClientUnaryCall;
  LoadTable(argument: _switchyard_v1_LoadTableRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_LoadTableReport__Output>): grpc.ClientUnaryCall;
  LoadTable(argument: _switchyard_v1_LoadTableRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_LoadTableReport__Output>): grpc.ClientUnaryCall;
  LoadTable(argument: _switchyard_v1_LoadTableRequest, callback: grpc.requestCallback<_switchyard_v1_LoadTableReport__Output>): grpc.ClientUnaryCall;
  loadTable(argument: _switchyard_v1_LoadTableRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_LoadTableReport__Output>): grpc.ClientUnaryCall;
  loadTable(argument: _switchyard_v1_LoadTableRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_LoadTableReport__Output>): grpc.ClientUnaryCall;
  loadTable(argument: _switchyard_v1_LoadTableRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_LoadTableReport__Output>): grpc.ClientUnaryCall;
  loadTable(argument: _switchyard_v1_LoadTableRequest, callback: grpc.requestCallback<_switchyard_v1_LoadTableReport__Output>): grpc.ClientUnaryCall;
  
  Register(argument: _switchyard_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RegisterReport__Output>): grpc.ClientUnaryCall;
  Register(argument: _switchyard_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_RegisterReport__Output>): grpc.ClientUnaryCall;
  Register(argument: _switchyard_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RegisterReport__Output>): grpc.ClientUnaryCall;
  Register(argument: _switchyard_v1_RegisterRequest, callback: grpc.requestCallback<_switchyard_v1_RegisterReport__Output>): grpc.ClientUnaryCall;
  register(argument: _switchyard_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RegisterReport__Output>): grpc.ClientUnaryCall;
  register(argument: _switchyard_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_RegisterReport__Output>): grpc.ClientUnaryCall;
  register(argument: _switchyard_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_RegisterReport__Output>): grpc.ClientUnaryCall;
  register(argument: _switchyard_v1_RegisterRequest, callback: grpc.requestCallback<_switchyard_v1_RegisterReport__Output>): grpc.ClientUnaryCall;
  
  Release(argument: _switchyard_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ReleaseReport__Output>): grpc.ClientUnaryCall;
  Release(argument: _switchyard_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ReleaseReport__Output>): grpc.ClientUnaryCall;
  Release(argument: _switchyard_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ReleaseReport__Output>): grpc.ClientUnaryCall;
  Release(argument: _switchyard_v1_ReleaseRequest, callback: grpc.requestCallback<_switchyard_v1_ReleaseReport__Output>): grpc.ClientUnaryCall;
  release(argument: _switchyard_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ReleaseReport__Output>): grpc.ClientUnaryCall;
  release(argument: _switchyard_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_switchyard_v1_ReleaseReport__Output>): grpc.ClientUnaryCall;
  release(argument: _switchyard_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_switchyard_v1_ReleaseReport__Output>): grpc.ClientUnaryCall;
  release(argument: _switchyard_v1_ReleaseRequest, callback: grpc.requestCallback<_switchyard_v1_ReleaseReport__Output>): grpc.ClientUnaryCall;
  
}

export interface ApparatusHandlers extends grpc.UntypedServiceImplementation {
  Abort: grpc.handleUnaryCall<_switchyard_v1_AbortRequest__Output, _switchyard_v1_AbortReport>;
  
  Apply: grpc.handleUnaryCall<_switchyard_v1_ApplyRequest__Output, _switchyard_v1_ApplyReport>;
  
  /**
   * Hold, Apply, Release and Abort on one long-lived stream per controller,
   * each handled exactly as its unary call (epochs, generations, repeats),
   * answered in whatever order they finish. It spares a controller a new
   * HTTP/2 stream per message; the unary calls stay for every other client.
   */
  Control: grpc.handleBidiStreamingCall<_switchyard_v1_ControlRequest__Output, _switchyard_v1_ControlReply>;
  
  GetState: grpc.handleUnaryCall<_switchyard_v1_GetStateRequest__Output, _switchyard_v1_ApparatusState>;
  
  Hold: grpc.handleUnaryCall<_switchyard_v1_HoldRequest__Output, _switchyard_v1_HoldReport>;
  
  LoadTable: grpc.handleUnaryCall<_switchyard_v1_LoadTableRequest__Output, _switchyard_v1_LoadTableReport>;
  
  Register: grpc.handleUnaryCall<_switchyard_v1_RegisterRequest__Output, _switchyard_v1_RegisterReport>;
  
  Release: grpc.handleUnaryCall<_switchyard_v1_ReleaseRequest__Output, _switchyard_v1_ReleaseReport>;
  
}

export interface ApparatusDefinition extends grpc.ServiceDefinition {
  Abort: MethodDefinition<_switchyard_v1_AbortRequest, _switchyard_v1_AbortReport, _switchyard_v1_AbortRequest__Output, _switchyard_v1_AbortReport__Output>
  Apply: MethodDefinition<_switchyard_v1_ApplyRequest, _switchyard_v1_ApplyReport, _switchyard_v1_ApplyRequest__Output, _switchyard_v1_ApplyReport__Output>
  Control: MethodDefinition<_switchyard_v1_ControlRequest, _switchyard_v1_ControlReply, _switchyard_v1_ControlRequest__Output, _switchyard_v1_ControlReply__Output>
  GetState: MethodDefinition<_switchyard_v1_GetStateRequest, _switchyard_v1_ApparatusState, _switchyard_v1_GetStateRequest__Output, _switchyard_v1_ApparatusState__Output>
  Hold: MethodDefinition<_switchyard_v1_HoldRequest, _switchyard_v1_HoldReport, _switchyard_v1_HoldRequest__Output, _switchyard_v1_HoldReport__Output>
  LoadTable: MethodDefinition<_switchyard_v1_LoadTableRequest, _switchyard_v1_LoadTableReport, _switchyard_v1_LoadTableRequest__Output, _switchyard_v1_LoadTableReport__Output>
  Register: MethodDefinition<_switchyard_v1_RegisterRequest, _switchyard_v1_RegisterReport, _switchyard_v1_RegisterRequest__Output, _switchyard_v1_RegisterReport__Output>
  Release: MethodDefinition<_switchyard_v1_ReleaseRequest, _switchyard_v1_ReleaseReport, _switchyard_v1_ReleaseRequest__Output, _switchyard_v1_ReleaseReport__Output>
}
