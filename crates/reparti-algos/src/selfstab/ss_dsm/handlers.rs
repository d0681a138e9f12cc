//! The node's handlers: the token, the reports, the lock at the home, reads, writes
//! and repairs (the protocol of the parent module's doc).

use super::*;

impl Node {
    /// Node `me` of `n`, with `pages` pages, legitimate: counters 0, no copy.
    pub fn new(me: NodeId, n: u32, pages: u32, k: u32, period: u32, timeout: u32, periods: u32) -> Node {
        let page = PageState { fresh: true, ..PageState::default() };
        let homes = (0..pages)
            .filter(|p| p % n == me.0)
            .map(|p| (p, Home { reports: vec![None; n as usize], ..Home::default() }))
            .collect();
        Node {
            me,
            n,
            k,
            period,
            timeout,
            periods_left: periods,
            tick: 0,
            pages: vec![page; pages as usize],
            homes,
            client: Client::default(),
            pending: None,
            seq: 0,
            local: VecDeque::new(),
        }
    }

    /// The home of page `p`.
    pub fn home_of(&self, p: u32) -> NodeId {
        NodeId(p % self.n)
    }

    pub(super) fn succ(&self) -> NodeId {
        NodeId((self.me.0 + 1) % self.n)
    }

    pub(super) fn pred(&self) -> NodeId {
        NodeId((self.me.0 + self.n - 1) % self.n)
    }

    /// Whether this node is privileged for page `p`, on its view of its predecessor.
    pub fn privileged(&self, p: u32) -> bool {
        let s = &self.pages[p as usize];
        if self.me.0 == 0 {
            s.x == s.pred
        } else {
            s.x != s.pred
        }
    }

    /// Sends, or queues for itself: a node never sends to itself.
    pub(super) fn deliver(&mut self, to: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        if to == self.me {
            self.local.push_back((to, msg));
        } else {
            ctx.send(to, msg);
        }
    }

    /// Handles the messages this node sent itself, in order.
    pub(super) fn drain(&mut self, ctx: &mut Context<'_, Msg>) {
        while let Some((from, msg)) = self.local.pop_front() {
            self.handle(from, msg, ctx);
        }
    }

    pub(super) fn valid(&self, page: u32) -> bool {
        (page as usize) < self.pages.len()
    }

    pub(super) fn handle(&mut self, from: NodeId, msg: Msg, ctx: &mut Context<'_, Msg>) {
        let page = match &msg {
            Msg::Token { page, .. }
            | Msg::Status { page, .. }
            | Msg::ReadReq { page, .. }
            | Msg::Data { page, .. }
            | Msg::WriteReq { page, .. }
            | Msg::Inv { page, .. }
            | Msg::InvAck { page, .. }
            | Msg::Grant { page, .. }
            | Msg::Release { page, .. } => *page,
        };
        if !self.valid(page) {
            return ctx.log(format!("{msg:?} from {from}: no page {page} here, ignored"));
        }
        let from_home = from == self.home_of(page);
        match msg {
            Msg::Token { x, .. } if from == self.pred() => {
                let s = &mut self.pages[page as usize];
                s.pred = x;
                s.fresh = true;
            }
            Msg::Status { access, stamp, token, .. } => self.status(page, from, access, stamp, token, ctx),
            Msg::ReadReq { seq, .. } => self.read_request(page, from, seq, ctx),
            Msg::WriteReq { seq, .. } => self.write_request(page, from, seq, ctx),
            Msg::InvAck { seq, .. } => self.inv_ack(page, from, seq, ctx),
            Msg::Release { seq, stamp, .. } => self.release(page, from, seq, stamp, ctx),
            Msg::Data { seq, stamp, .. } if from_home => self.data(page, seq, stamp, ctx),
            Msg::Inv { seq, .. } if from_home => {
                let s = &mut self.pages[page as usize];
                s.access = Access::Nil;
                s.stamp = Stamp::default();
                self.deliver(from, Msg::InvAck { page, seq }, ctx);
            }
            Msg::Grant { seq, stamp, .. } if from_home => self.granted(page, seq, stamp, ctx),
            msg => ctx.log(format!("{msg:?} from {from}, who has no say on it: ignored")),
        }
    }

    // ----- every period -----

    pub(super) fn period_tick(&mut self, ctx: &mut Context<'_, Msg>) {
        self.tick += 1;
        self.periods_left = self.periods_left.saturating_sub(1);
        let last = self.periods_left == 0;
        let given_up = self.expire_request(last, ctx);
        for p in 0..self.pages.len() as u32 {
            self.page_tick(p, last || given_up == Some(p), ctx);
            self.drain(ctx);
        }
        let homed: Vec<u32> = self.homes.keys().copied().collect();
        for p in homed {
            self.home_tick(p, ctx);
            self.drain(ctx);
        }
        if !last {
            ctx.set_timer(TICK, f64::from(self.period));
        }
    }

    /// Drops a request that timed out (a read is asked again), and a write request of a
    /// node no longer privileged or about to stop; returns the page of a write given up.
    pub(super) fn expire_request(&mut self, last: bool, ctx: &mut Context<'_, Msg>) -> Option<u32> {
        let pd = self.pending?;
        let expired = self.tick.saturating_sub(pd.since) >= u64::from(self.timeout);
        if pd.write {
            if expired || last || !self.privileged(pd.page) {
                ctx.log(format!("write request {} for page {} given up", pd.seq, pd.page));
                self.pending = None;
                return Some(pd.page);
            }
        } else if expired && !last {
            ctx.log(format!("read request {} for page {} timed out: asked again", pd.seq, pd.page));
            self.ask_read(pd.page, ctx);
        }
        None
    }

    /// One period of page `p`. `no_write`: ask for no lock now (the last period, or a
    /// write request just given up: the token then moves on, and the write waits for its
    /// next visit — asking again at once would keep the token while the lock is stuck).
    pub(super) fn page_tick(&mut self, p: u32, no_write: bool, ctx: &mut Context<'_, Msg>) {
        let home = self.home_of(p);
        let privileged = self.privileged(p);
        let s = self.pages[p as usize];
        if s.access == Access::Write {
            // The writer passes the token on; a writer without it was never entitled.
            if privileged && s.fresh {
                self.make_move(p, ctx);
            }
            self.pages[p as usize].access = Access::Read;
            self.deliver(home, Msg::Release { page: p, seq: s.grant, stamp: s.stamp }, ctx);
        } else if privileged && s.fresh {
            let waiting = self.pending.is_some_and(|pd| pd.write && pd.page == p);
            let wants = self.pending.is_none() && self.client.open.is_some_and(|op| op.key() == p && is_write(&op));
            if wants && !no_write {
                self.seq += 1;
                self.pending = Some(Pending { page: p, write: true, seq: self.seq, since: self.tick });
                self.deliver(home, Msg::WriteReq { page: p, seq: self.seq }, ctx);
            } else if !waiting {
                self.make_move(p, ctx);
            }
        }
        let s = self.pages[p as usize];
        ctx.send(self.succ(), Msg::Token { page: p, x: s.x });
        let token = self.privileged(p);
        self.deliver(home, Msg::Status { page: p, access: s.access, stamp: s.stamp, token }, ctx);
    }

    /// Dijkstra's move: node 0 takes its predecessor's counter plus one, the others copy it.
    pub(super) fn make_move(&mut self, p: u32, ctx: &mut Context<'_, Msg>) {
        let (me, k) = (self.me.0, self.k);
        let s = &mut self.pages[p as usize];
        s.x = if me == 0 { ((u64::from(s.pred) + 1) % u64::from(k)) as u32 } else { s.pred };
        s.fresh = false;
        ctx.output(MOVE, p);
    }

    /// At a home: forgets old reports, and a lock held too long.
    pub(super) fn home_tick(&mut self, p: u32, ctx: &mut Context<'_, Msg>) {
        let (tick, timeout) = (self.tick, u64::from(self.timeout));
        let Some(home) = self.homes.get_mut(&p) else { return };
        for slot in home.reports.iter_mut() {
            if slot.is_some_and(|r| r.at > tick || tick - r.at > REPORT_LIFE) {
                *slot = None;
            }
        }
        if home.lock.as_ref().is_some_and(|l| l.since > tick || tick - l.since >= timeout) {
            ctx.log(format!("the lock on page {p} expired: {:?}", home.lock));
            self.unlock(p, ctx);
        }
    }

    // ----- the home -----

    pub(super) fn status(
        &mut self,
        p: u32,
        from: NodeId,
        access: Access,
        stamp: Stamp,
        token: bool,
        ctx: &mut Context<'_, Msg>,
    ) {
        let (tick, me) = (self.tick, self.me);
        let Some(home) = self.homes.get_mut(&p) else {
            return ctx.log(format!("STATUS for page {p} from {from}, not homed here: ignored"));
        };
        if let Some(slot) = home.reports.get_mut(from.index()) {
            *slot = Some(Report { access, stamp, token, at: tick });
        }
        let wrong = match access {
            Access::Write => !(token && home.lock.as_ref().is_some_and(|l| l.holder == from && l.granted)),
            Access::Read => stamp != home.stamp,
            Access::Nil => false,
        };
        // A lock whose holder neither writes nor holds the token any more serves no
        // write: its holder moved on (or never asked). The writer's RELEASE always comes
        // before such a report, so only a stale or corrupt lock goes this way.
        let stale = access != Access::Write && !token && home.lock.as_ref().is_some_and(|l| l.holder == from);
        if wrong {
            ctx.output(REPAIR, if from == me { "local" } else { "remote" });
            self.deliver(from, Msg::Inv { page: p, seq: None }, ctx);
        }
        if stale {
            ctx.log(format!("the lock on page {p} is held for {from}, which reports no token: dropped"));
            self.unlock(p, ctx);
        }
    }

    pub(super) fn read_request(&mut self, p: u32, from: NodeId, seq: u64, ctx: &mut Context<'_, Msg>) {
        let Some(home) = self.homes.get_mut(&p) else {
            return ctx.log(format!("RREQ for page {p} from {from}, not homed here: ignored"));
        };
        if home.lock.is_some() {
            home.reads.insert(from.0, seq);
        } else {
            let stamp = home.stamp;
            self.deliver(from, Msg::Data { page: p, seq, stamp }, ctx);
        }
    }

    pub(super) fn write_request(&mut self, p: u32, from: NodeId, seq: u64, ctx: &mut Context<'_, Msg>) {
        let Some(home) = self.homes.get_mut(&p) else {
            return ctx.log(format!("WREQ for page {p} from {from}, not homed here: ignored"));
        };
        // Free, or its holder asks again: it gave up its request, and refuses the GRANT
        // of the old one if it comes.
        let free = home.lock.as_ref().is_none_or(|l| l.holder == from);
        if free {
            self.lock(p, from, seq, ctx);
        } else {
            home.writes.insert(from.0, seq);
        }
    }

    /// Takes the lock for `holder` and invalidates every other copy.
    pub(super) fn lock(&mut self, p: u32, holder: NodeId, seq: u64, ctx: &mut Context<'_, Msg>) {
        let (n, me, tick) = (self.n, self.me, self.tick);
        let others: BTreeSet<NodeId> = (0..n).map(NodeId).filter(|&j| j != holder).collect();
        let Some(home) = self.homes.get_mut(&p) else { return };
        home.writes.remove(&holder.0);
        home.lock = Some(Lock { holder, seq, since: tick, awaiting: others.clone(), granted: false });
        ctx.output(INVALIDATED, others.iter().filter(|&&j| j != me).count());
        for j in others {
            self.deliver(j, Msg::Inv { page: p, seq: Some(seq) }, ctx);
        }
    }

    pub(super) fn inv_ack(&mut self, p: u32, from: NodeId, seq: Option<u64>, ctx: &mut Context<'_, Msg>) {
        let Some(home) = self.homes.get_mut(&p) else { return };
        let Some(lock) = home.lock.as_mut().filter(|l| Some(l.seq) == seq && !l.granted) else { return };
        lock.awaiting.remove(&from);
        if lock.awaiting.is_empty() {
            lock.granted = true;
            let (holder, seq, stamp) = (lock.holder, lock.seq, home.stamp);
            self.deliver(holder, Msg::Grant { page: p, seq, stamp }, ctx);
        }
    }

    pub(super) fn release(&mut self, p: u32, from: NodeId, seq: u64, stamp: Stamp, ctx: &mut Context<'_, Msg>) {
        let Some(home) = self.homes.get_mut(&p) else {
            return ctx.log(format!("RELEASE for page {p} from {from}, not homed here: ignored"));
        };
        if !home.lock.as_ref().is_some_and(|l| l.holder == from && l.seq == seq) {
            return ctx.log(format!("RELEASE {seq} for page {p} from {from}, which holds no such lock: ignored"));
        }
        home.stamp = stamp;
        self.unlock(p, ctx);
    }

    /// Drops the lock, answers the reads that waited, and serves the next write.
    pub(super) fn unlock(&mut self, p: u32, ctx: &mut Context<'_, Msg>) {
        let Some(home) = self.homes.get_mut(&p) else { return };
        home.lock = None;
        let stamp = home.stamp;
        let reads = std::mem::take(&mut home.reads);
        let next = home.writes.pop_first();
        for (r, seq) in reads {
            self.deliver(NodeId(r), Msg::Data { page: p, seq, stamp }, ctx);
        }
        if let Some((w, seq)) = next {
            self.lock(p, NodeId(w), seq, ctx);
        }
    }

    // ----- the client's side -----

    pub(super) fn ask_read(&mut self, p: u32, ctx: &mut Context<'_, Msg>) {
        self.seq += 1;
        self.pending = Some(Pending { page: p, write: false, seq: self.seq, since: self.tick });
        let home = self.home_of(p);
        self.deliver(home, Msg::ReadReq { page: p, seq: self.seq }, ctx);
    }

    pub(super) fn data(&mut self, p: u32, seq: u64, stamp: Stamp, ctx: &mut Context<'_, Msg>) {
        if !self.pending.is_some_and(|pd| !pd.write && pd.page == p && pd.seq == seq) {
            return ctx.log(format!("DATA {seq} for page {p}, which no read here awaits: ignored"));
        }
        self.pending = None;
        let s = &mut self.pages[p as usize];
        if s.access == Access::Nil {
            s.access = Access::Read;
            s.stamp = stamp;
        }
        self.answer(Reply::Value(stamp.value), ctx);
    }

    pub(super) fn granted(&mut self, p: u32, seq: u64, stamp: Stamp, ctx: &mut Context<'_, Msg>) {
        let awaited = self.pending.is_some_and(|pd| pd.write && pd.page == p && pd.seq == seq);
        if !awaited || !self.privileged(p) {
            ctx.log(format!("GRANT {seq} for page {p}, not awaited (or the token is gone): released"));
            let home = self.home_of(p);
            return self.deliver(home, Msg::Release { page: p, seq, stamp }, ctx);
        }
        self.pending = None;
        let s = &mut self.pages[p as usize];
        s.access = Access::Write;
        s.stamp = stamp;
        s.grant = seq;
        if let Some(op) = self.client.open.filter(|op| op.key() == p && is_write(op)) {
            let reply = self.perform(op);
            self.answer(reply, ctx);
        }
    }

    /// Runs a write or a compare-and-set on this node's writable copy.
    pub(super) fn perform(&mut self, op: Operation) -> Reply {
        let s = &mut self.pages[op.key() as usize];
        let (reply, value) = op.apply(s.stamp.value);
        if reply != Reply::Refused {
            s.stamp = Stamp { version: s.stamp.version.wrapping_add(1), value };
        }
        reply
    }

    // ----- transient faults -----

    /// Overwrites the protocol's memory with values drawn from `seed`.
    pub(super) fn corrupt(&mut self, seed: u64, ctx: &mut Context<'_, Msg>) {
        let mut rng = reparti_core::rng(seed);
        let (n, k) = (self.n, self.k);
        let stamp = |rng: &mut reparti_core::Rng| Stamp {
            version: rng.gen_range(0..4),
            value: if rng.gen_bool(0.2) { None } else { Some(-rng.gen_range(1..=9)) },
        };
        let access = |rng: &mut reparti_core::Rng| [Access::Nil, Access::Read, Access::Write][rng.gen_range(0..3)];
        for s in &mut self.pages {
            *s = PageState {
                x: rng.gen_range(0..k),
                pred: rng.gen_range(0..k),
                fresh: rng.gen_bool(0.5),
                access: access(&mut rng),
                stamp: stamp(&mut rng),
                grant: rng.gen_range(0..4),
            };
        }
        let horizon = self.tick + u64::from(self.timeout);
        for home in self.homes.values_mut() {
            let nodes = |rng: &mut reparti_core::Rng| -> BTreeMap<u32, u64> {
                let mut picked = BTreeMap::new();
                for j in 0..n {
                    if rng.gen_bool(0.3) {
                        picked.insert(j, rng.gen_range(0..4));
                    }
                }
                picked
            };
            home.stamp = stamp(&mut rng);
            home.lock = rng.gen_bool(0.5).then(|| Lock {
                holder: NodeId(rng.gen_range(0..n)),
                seq: rng.gen_range(0..4),
                since: rng.gen_range(0..=horizon),
                awaiting: (0..n).filter(|_| rng.gen_bool(0.3)).map(NodeId).collect(),
                granted: rng.gen_bool(0.5),
            });
            home.reads = nodes(&mut rng);
            home.writes = nodes(&mut rng);
            for slot in home.reports.iter_mut() {
                *slot = rng.gen_bool(0.5).then(|| Report {
                    access: access(&mut rng),
                    stamp: stamp(&mut rng),
                    token: rng.gen_bool(0.5),
                    at: rng.gen_range(0..=horizon),
                });
            }
        }
        ctx.output(CORRUPTED, 1);
    }
}
