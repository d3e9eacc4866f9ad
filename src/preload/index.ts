// Preload: exposes the contract's functions to the renderer (placeholder).
export {};
