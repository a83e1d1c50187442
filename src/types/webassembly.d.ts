// The slice of the WebAssembly JS API that procnas uses. @types/node 20 does not declare it and
// lib.dom would bring the whole browser into scope.
declare namespace WebAssembly {
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
