// Compute worker entry (placeholder).
export {};
