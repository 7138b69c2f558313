//! The packed token file.
