//! `graph`: the mesh as a Mermaid flowchart or a Graphviz DOT digraph.

use clap::ValueEnum;
use meshc::graph::Graph;

use super::args::{Input, Target};
use super::Status;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GraphFormat {
    /// A Mermaid flowchart (renders in Markdown on code hosts)
    Mermaid,
    /// A Graphviz digraph (`dot -Tsvg`)
    Dot,
}

pub(crate) fn run(input: &Input, target: &Target, format: GraphFormat) -> Status {
    let (_, mesh) = match super::traffic::load_mesh(input, target) {
        Ok(loaded) => loaded,
        Err(status) => return status,
    };
    let graph = Graph::from_mesh(&mesh);
    let text = match format {
        GraphFormat::Mermaid => graph.to_mermaid(),
        GraphFormat::Dot => graph.to_dot(),
    };
    super::finish(std::io::Write::write_all(
        &mut std::io::stdout().lock(),
        text.as_bytes(),
    ))
}
