//! Merging the nodes' traces into one (being written).
