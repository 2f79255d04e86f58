// placeholder: filled in by the owner of this file (see docs/ARCHITECTURE.md)
export {};
