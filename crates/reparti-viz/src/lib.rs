//! # reparti-viz: pictures of runs
//!
//! Everything here reads traces (`reparti_core::trace`) or topologies and writes text:
//! SVG, self-contained HTML, Graphviz DOT, ShiViz logs. It never runs an algorithm, so
//! it draws simulations, model-checker counterexamples and merged real runs alike.

pub mod html;
pub mod plot;
pub mod shiviz;
pub mod spacetime;
pub mod svg;
pub mod topology;
