//! loom models of ipcring (see README.md).
