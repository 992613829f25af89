//! C API of ipcring (work in progress).
