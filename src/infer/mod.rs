//! Batch scoring and the streaming session.
