// Answers for RPCs not built yet: UNIMPLEMENTED with the RPC's name, the way a Go server embedding
// the generated Unimplemented*Server answers.

import {
  type MethodDefinition,
  type ServerDuplexStream,
  type ServiceDefinition,
  status,
  type UntypedHandleCall,
} from "@grpc/grpc-js";

function rpcName(definition: { path: string }): string {
  return definition.path.slice(definition.path.lastIndexOf("/") + 1);
}

// biome-ignore lint/suspicious/noExplicitAny: a method of any message types
type AnyMethod = MethodDefinition<any, any>;

export function unimplementedHandler(definition: AnyMethod): UntypedHandleCall {
  const error = { code: status.UNIMPLEMENTED, details: `method ${rpcName(definition)} not implemented` };
  if (!definition.responseStream) {
    // Unary and client-streaming calls answer through their callback.
    return ((_call: unknown, callback: (err: typeof error) => void) => callback(error)) as UntypedHandleCall;
  }
  return ((call: ServerDuplexStream<unknown, unknown>) => call.emit("error", error)) as UntypedHandleCall;
}

/** Fills every method of a service that `implemented` lacks with an UNIMPLEMENTED answer. */
export function completeService<T extends Record<string, UntypedHandleCall>>(
  service: ServiceDefinition,
  implemented: Partial<T>,
): T {
  const full: Record<string, UntypedHandleCall> = { ...implemented } as Record<string, UntypedHandleCall>;
  for (const [key, definition] of Object.entries(service)) {
    full[key] ??= unimplementedHandler(definition as AnyMethod);
  }
  return full as T;
}
