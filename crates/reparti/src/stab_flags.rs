//! The flags of self-stabilizing algorithms (chapter 8), shared by `sim` and `check`:
//! who moves (the daemon), how it chooses, and — in the simulator — where the run
//! starts and which transient faults hit it. Other algorithms refuse them.

use clap::Args;

#[derive(Args, Debug, Clone, Default)]
pub struct DaemonFlags {
    /// Self-stabilizing algorithms: who moves in a step — central (one privileged
    /// node), distributed (any non-empty set of them, each reading the old states) or
    /// synchronous (all of them) [default: central].
    #[arg(long, value_name = "DAEMON")]
    pub daemon: Option<String>,

    /// Self-stabilizing algorithms: how the daemon chooses — random (the simulator's
    /// default), fair (weakly fair: round robin in the simulator; in the checker, only
    /// cycles where every node privileged throughout moves count) or unfair (the
    /// checker's default: any choice, the adversary of the classic results).
    #[arg(long, value_name = "CHOICE")]
    pub choice: Option<String>,
}

impl DaemonFlags {
    /// Whether any of these flags was given.
    pub fn any(&self) -> bool {
        self.daemon.is_some() || self.choice.is_some()
    }
}

#[derive(Args, Debug, Clone, Default)]
pub struct StabFlags {
    #[command(flatten)]
    pub daemon: DaemonFlags,

    /// Self-stabilizing algorithms: where the run starts — random (every node's state
    /// drawn from the seed), legitimate, or a configuration as JSON, e.g. '[3,0,1,2]',
    /// given inline or as a file holding it [default: random].
    #[arg(long, value_name = "START")]
    pub start: Option<String>,

    /// Self-stabilizing algorithms: a transient fault — K random nodes get arbitrary
    /// states after T steps, e.g. --corrupt 2@100. Repeatable.
    #[arg(long, value_name = "K@T")]
    pub corrupt: Vec<String>,
}

impl StabFlags {
    /// Whether any of these flags was given.
    pub fn any(&self) -> bool {
        self.daemon.any() || self.start.is_some() || !self.corrupt.is_empty()
    }
}

/// Parses `K@T`.
pub fn corruption(text: &str) -> Result<reparti_sim::stabilization::Corruption, String> {
    let bad = || format!("--corrupt '{text}': give K@T, K nodes corrupted after T steps (e.g. 2@100)");
    let (k, t) = text.split_once('@').ok_or_else(bad)?;
    let nodes: usize = k.trim().parse().map_err(|_| bad())?;
    let at_step: u64 = t.trim().parse().map_err(|_| bad())?;
    if nodes == 0 {
        return Err(format!("--corrupt '{text}': corrupting 0 nodes does nothing; give K ≥ 1"));
    }
    Ok(reparti_sim::stabilization::Corruption { nodes, at_step })
}
