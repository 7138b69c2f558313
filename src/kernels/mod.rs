//! Kernel choice and the kernels (see the module files).
