//! The reliable channel layer (being written).
