//! Cycles of the configuration graph: strongly connected components, the shortest
//! cycle among a set of configurations, and paths inside a component.
//!
//! A run that never converges is, in a finite graph, a cycle of configurations outside
//! L (any configuration may be the start, so the cycle itself is the counterexample).
//! Under a weakly fair daemon only some cycles count, and whether a component holds one
//! is a question about the whole component (see [`crate::stabilization`]).

use crate::stab_graph::ConfigGraph;
use reparti_core::guarded::Guarded;
use std::collections::VecDeque;

/// No component: the configuration is outside the subgraph.
pub const OUTSIDE: u32 = u32::MAX;

/// The strongly connected components of the subgraph induced by `inside`: a component
/// number per configuration ([`OUTSIDE`] for the others). Tarjan's algorithm, with an
/// explicit stack (components can be millions of configurations deep).
pub fn components<G: Guarded>(graph: &ConfigGraph<G>, inside: &dyn Fn(usize) -> bool) -> Vec<u32> {
    const UNSEEN: u32 = u32::MAX;
    let n = graph.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![OUTSIDE; n];
    let mut stack: Vec<u32> = Vec::new();
    // (configuration, next edge to look at)
    let mut calls: Vec<(usize, usize)> = Vec::new();
    let (mut next_index, mut next_comp) = (0u32, 0u32);
    for root in 0..n {
        if !inside(root) || index[root] != UNSEEN {
            continue;
        }
        calls.push((root, graph.edges(root).start));
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root as u32);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = calls.last_mut() {
            let end = graph.edges(v).end;
            let mut descended = false;
            while *edge < end {
                let w = graph.targets[*edge] as usize;
                *edge += 1;
                if !inside(w) {
                    continue;
                }
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    calls.push((w, graph.edges(w).start));
                    descended = true;
                    break;
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            }
            if descended {
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    comp[w as usize] = next_comp;
                    if w as usize == v {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    comp
}

/// The shortest path of edges from `from` to a configuration `goal` accepts, moving
/// only through configurations `inside` accepts (`from` itself is never a goal: a path
/// back to `from` is a cycle). `None` when there is none within `limit` edges.
pub fn shortest_path<G: Guarded>(
    graph: &ConfigGraph<G>,
    from: usize,
    inside: &dyn Fn(usize) -> bool,
    goal: &dyn Fn(usize) -> bool,
    limit: usize,
    work: &mut u64,
) -> Option<Vec<usize>> {
    // Parent edges of the configurations reached, sparse: a search usually sees few.
    let mut parent: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut queue = VecDeque::from([(from, 0usize)]);
    while let Some((v, depth)) = queue.pop_front() {
        if depth >= limit {
            break;
        }
        for e in graph.edges(v) {
            *work += 1;
            let w = graph.targets[e] as usize;
            if !inside(w) {
                continue;
            }
            if goal(w) {
                let mut path = vec![e];
                let mut at = v;
                while at != from {
                    let pe = parent[&at];
                    path.push(pe);
                    at = graph.source(pe);
                }
                path.reverse();
                return Some(path);
            }
            if w != from && !parent.contains_key(&w) {
                parent.insert(w, e);
                queue.push_back((w, depth + 1));
            }
        }
    }
    None
}

/// The shortest cycle through configurations `inside` accepts, as edges, and whether it
/// is known to be the shortest (the search gives up past `budget` edge visits and keeps
/// the shortest found).
pub fn shortest_cycle<G: Guarded>(
    graph: &ConfigGraph<G>,
    inside: &dyn Fn(usize) -> bool,
    budget: u64,
) -> Option<(Vec<usize>, bool)> {
    let mut best: Option<Vec<usize>> = None;
    let mut work = 0u64;
    for s in (0..graph.len()).filter(|&s| inside(s)) {
        if work > budget {
            return best.map(|b| (b, false));
        }
        let limit = best.as_ref().map_or(usize::MAX, |b| b.len() - 1);
        if limit == 0 {
            break;
        }
        if let Some(cycle) = shortest_path(graph, s, inside, &|w| w == s, limit, &mut work) {
            best = Some(cycle);
        }
    }
    best.map(|b| (b, true))
}
