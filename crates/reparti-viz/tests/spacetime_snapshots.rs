//! Snapshots of the SVG and ShiViz output for small hand-written traces (fixed, so the
//! snapshots move only when the drawing or the export changes, never with an algorithm).

mod common;

use reparti_viz::{render, render_with, Format, Options};

#[test]
fn svg_election3() {
    insta::assert_snapshot!(render(&common::election3(), Format::Svg).expect("small"));
}

#[test]
fn svg_faulty4_vertical() {
    let opts = Options { vertical: true, ..Options::default() };
    insta::assert_snapshot!(render_with(&common::faulty4(), Format::Svg, &opts).expect("small"));
}

#[test]
fn svg_mutex3() {
    insta::assert_snapshot!(render(&common::mutex3(), Format::Svg).expect("small"));
}

#[test]
fn shiviz_election3() {
    insta::assert_snapshot!(render(&common::election3(), Format::ShiViz).expect("small"));
}

#[test]
fn shiviz_faulty4() {
    insta::assert_snapshot!(render(&common::faulty4(), Format::ShiViz).expect("small"));
}
