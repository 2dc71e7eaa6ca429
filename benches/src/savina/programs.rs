//! The Savina programs for the two frameworks whose actors share one shape (the
//! `Actor` trait with `pre_start` / `handle`, `ActorRef::cast`): Ensemble and ractor. One
//! text, instantiated per crate, so the two run exactly the same program.

/// Defines `run(bench, flavor, params) -> Duration` for the actor crate `$krate`.
macro_rules! savina_programs {
    ($krate:ident) => {
        use std::sync::Arc;
        use std::time::{Duration, Instant};

        use tokio::sync::mpsc::{UnboundedSender as Tx, unbounded_channel};
        use tokio::sync::oneshot;
        use $krate::{Actor, ActorProcessingErr, ActorRef};

        use $crate::Flavor;
        use $crate::savina::{Bench, Colour, Params, Rng, compute};

        type Res = Result<(), ActorProcessingErr>;

        fn sent<E>(r: Result<(), E>) -> Res {
            r.map_err(|_| "a send failed".into())
        }

        async fn start<A: Actor>(actor: A, args: A::Arguments) -> ActorRef<A::Msg> {
            match Actor::spawn(None, actor, args).await {
                Ok((r, _)) => r,
                Err(e) => panic!("spawn: {e}"),
            }
        }

        /// Runs one benchmark; returns the time from the first message to the result.
        pub fn run(bench: Bench, flavor: Flavor, p: Params) -> Duration {
            flavor.runtime().block_on(async move {
                match bench {
                    Bench::PingPong => ping_pong(p.pingpong_n).await,
                    Bench::Counting => counting(p.count_n).await,
                    Bench::ForkJoin => fork_join(p.fj_actors, p.fj_n).await,
                    Bench::ThreadRing => thread_ring(p.ring_actors, p.ring_hops).await,
                    Bench::Chameneos => chameneos(p.chameneos, p.meetings).await,
                    Bench::Big => big(p.big_actors, p.big_pings).await,
                }
            })
        }

        // ---- ping-pong

        enum PingMsg {
            Start,
            Pong,
        }
        enum PongMsg {
            Ping(ActorRef<PingMsg>),
        }
        struct Ping;
        struct Pong;

        impl Actor for Ping {
            type Msg = PingMsg;
            type State = (u64, ActorRef<PongMsg>, Tx<()>);
            type Arguments = Self::State;
            async fn pre_start(
                &self,
                _: ActorRef<PingMsg>,
                s: Self::State,
            ) -> Result<Self::State, ActorProcessingErr> {
                Ok(s)
            }
            async fn handle(
                &self,
                me: ActorRef<PingMsg>,
                msg: PingMsg,
                (left, pong, done): &mut Self::State,
            ) -> Res {
                if let PingMsg::Pong = msg {
                    *left -= 1;
                }
                if *left == 0 {
                    let _ = done.send(());
                    return Ok(());
                }
                sent(pong.cast(PongMsg::Ping(me)))
            }
        }

        impl Actor for Pong {
            type Msg = PongMsg;
            type State = ();
            type Arguments = ();
            async fn pre_start(
                &self,
                _: ActorRef<PongMsg>,
                _: (),
            ) -> Result<(), ActorProcessingErr> {
                Ok(())
            }
            async fn handle(&self, _: ActorRef<PongMsg>, msg: PongMsg, _: &mut ()) -> Res {
                let PongMsg::Ping(from) = msg;
                sent(from.cast(PingMsg::Pong))
            }
        }

        async fn ping_pong(n: u64) -> Duration {
            let (tx, mut done) = unbounded_channel();
            let pong = start(Pong, ()).await;
            let ping = start(Ping, (n, pong, tx)).await;
            let t = Instant::now();
            assert!(ping.cast(PingMsg::Start).is_ok());
            done.recv().await.expect("ping-pong finished");
            t.elapsed()
        }

        // ---- counting

        enum CountMsg {
            Add,
            Get(oneshot::Sender<u64>),
        }
        struct Counter;

        impl Actor for Counter {
            type Msg = CountMsg;
            type State = u64;
            type Arguments = ();
            async fn pre_start(
                &self,
                _: ActorRef<CountMsg>,
                _: (),
            ) -> Result<u64, ActorProcessingErr> {
                Ok(0)
            }
            async fn handle(&self, _: ActorRef<CountMsg>, msg: CountMsg, n: &mut u64) -> Res {
                match msg {
                    CountMsg::Add => *n += 1,
                    CountMsg::Get(reply) => {
                        let _ = reply.send(*n);
                    }
                }
                Ok(())
            }
        }

        async fn counting(n: u64) -> Duration {
            let counter = start(Counter, ()).await;
            let t = Instant::now();
            for _ in 0..n {
                assert!(counter.cast(CountMsg::Add).is_ok());
            }
            let (tx, rx) = oneshot::channel();
            assert!(counter.cast(CountMsg::Get(tx)).is_ok());
            assert_eq!(rx.await.expect("count"), n);
            t.elapsed()
        }

        // ---- fork-join throughput

        struct Worker;

        impl Actor for Worker {
            type Msg = ();
            type State = (u64, u64, Tx<()>);
            type Arguments = (u64, Tx<()>);
            async fn pre_start(
                &self,
                _: ActorRef<()>,
                (n, done): (u64, Tx<()>),
            ) -> Result<Self::State, ActorProcessingErr> {
                Ok((0, n, done))
            }
            async fn handle(
                &self,
                _: ActorRef<()>,
                _: (),
                (seen, n, done): &mut Self::State,
            ) -> Res {
                compute();
                *seen += 1;
                if *seen == *n {
                    let _ = done.send(());
                }
                Ok(())
            }
        }

        async fn fork_join(actors: u64, n: u64) -> Duration {
            let (tx, mut done) = unbounded_channel();
            let mut workers = Vec::new();
            for _ in 0..actors {
                workers.push(start(Worker, (n, tx.clone())).await);
            }
            let t = Instant::now();
            for _ in 0..n {
                for w in &workers {
                    assert!(w.cast(()).is_ok());
                }
            }
            for _ in 0..actors {
                done.recv().await.expect("a worker finished");
            }
            t.elapsed()
        }

        // ---- thread ring

        enum RingMsg {
            Next(ActorRef<RingMsg>),
            Token(u64),
        }
        struct Member;

        impl Actor for Member {
            type Msg = RingMsg;
            type State = (Option<ActorRef<RingMsg>>, Tx<()>);
            type Arguments = Tx<()>;
            async fn pre_start(
                &self,
                _: ActorRef<RingMsg>,
                done: Tx<()>,
            ) -> Result<Self::State, ActorProcessingErr> {
                Ok((None, done))
            }
            async fn handle(
                &self,
                _: ActorRef<RingMsg>,
                msg: RingMsg,
                (next, done): &mut Self::State,
            ) -> Res {
                match msg {
                    RingMsg::Next(n) => *next = Some(n),
                    RingMsg::Token(0) => {
                        let _ = done.send(());
                    }
                    RingMsg::Token(left) => match next {
                        Some(n) => sent(n.cast(RingMsg::Token(left - 1)))?,
                        None => return Err("ring not closed".into()),
                    },
                }
                Ok(())
            }
        }

        async fn thread_ring(actors: u64, hops: u64) -> Duration {
            let (tx, mut done) = unbounded_channel();
            let mut ring = Vec::new();
            for _ in 0..actors {
                ring.push(start(Member, tx.clone()).await);
            }
            for (i, m) in ring.iter().enumerate() {
                assert!(
                    m.cast(RingMsg::Next(ring[(i + 1) % ring.len()].clone()))
                        .is_ok()
                );
            }
            let t = Instant::now();
            assert!(ring[0].cast(RingMsg::Token(hops)).is_ok());
            done.recv().await.expect("the token came to rest");
            t.elapsed()
        }

        // ---- chameneos

        enum MallMsg {
            Meet(Colour, ActorRef<ChamMsg>),
            Count(u64),
        }
        enum ChamMsg {
            Start,
            Meet(Colour, ActorRef<ChamMsg>),
            Change(Colour),
            Exit,
        }
        struct Mall;
        struct MallState {
            left: u64,
            waiting: Option<ActorRef<ChamMsg>>,
            faded: u64,
            sum: u64,
            total: u64,
            done: Tx<u64>,
        }
        struct Chameneo;

        impl Actor for Mall {
            type Msg = MallMsg;
            type State = MallState;
            type Arguments = MallState;
            async fn pre_start(
                &self,
                _: ActorRef<MallMsg>,
                s: MallState,
            ) -> Result<MallState, ActorProcessingErr> {
                Ok(s)
            }
            async fn handle(&self, _: ActorRef<MallMsg>, msg: MallMsg, s: &mut MallState) -> Res {
                match msg {
                    MallMsg::Meet(colour, from) if s.left > 0 => match s.waiting.take() {
                        None => s.waiting = Some(from),
                        Some(first) => {
                            s.left -= 1;
                            sent(first.cast(ChamMsg::Meet(colour, from)))?;
                        }
                    },
                    MallMsg::Meet(_, from) => sent(from.cast(ChamMsg::Exit))?,
                    MallMsg::Count(n) => {
                        s.faded += 1;
                        s.sum += n;
                        if s.faded == s.total {
                            let _ = s.done.send(s.sum);
                        }
                    }
                }
                Ok(())
            }
        }

        impl Actor for Chameneo {
            type Msg = ChamMsg;
            type State = (Colour, u64, ActorRef<MallMsg>);
            type Arguments = (Colour, ActorRef<MallMsg>);
            async fn pre_start(
                &self,
                _: ActorRef<ChamMsg>,
                (c, mall): Self::Arguments,
            ) -> Result<Self::State, ActorProcessingErr> {
                Ok((c, 0, mall))
            }
            async fn handle(
                &self,
                me: ActorRef<ChamMsg>,
                msg: ChamMsg,
                (colour, meetings, mall): &mut Self::State,
            ) -> Res {
                match msg {
                    ChamMsg::Start => sent(mall.cast(MallMsg::Meet(*colour, me)))?,
                    ChamMsg::Meet(other, from) => {
                        *colour = colour.complement(other);
                        *meetings += 1;
                        sent(from.cast(ChamMsg::Change(*colour)))?;
                        sent(mall.cast(MallMsg::Meet(*colour, me)))?;
                    }
                    ChamMsg::Change(c) => {
                        *colour = c;
                        *meetings += 1;
                        sent(mall.cast(MallMsg::Meet(*colour, me)))?;
                    }
                    ChamMsg::Exit => {
                        sent(mall.cast(MallMsg::Count(*meetings)))?;
                        me.stop(None);
                    }
                }
                Ok(())
            }
        }

        async fn chameneos(c: u64, meetings: u64) -> Duration {
            let (tx, mut done) = unbounded_channel();
            let mall = start(
                Mall,
                MallState {
                    left: meetings,
                    waiting: None,
                    faded: 0,
                    sum: 0,
                    total: c,
                    done: tx,
                },
            )
            .await;
            let mut all = Vec::new();
            for i in 0..c {
                all.push(start(Chameneo, (Colour::nth(i), mall.clone())).await);
            }
            let t = Instant::now();
            for ch in &all {
                assert!(ch.cast(ChamMsg::Start).is_ok());
            }
            let sum = done.recv().await.expect("every chameneo faded");
            let took = t.elapsed();
            assert_eq!(sum, 2 * meetings, "each meeting counts for two chameneos");
            took
        }

        // ---- big

        enum BigMsg {
            Neighbours(Arc<Vec<ActorRef<BigMsg>>>),
            Start,
            Ping(u64),
            Pong,
        }
        struct Big;
        struct BigState {
            me: u64,
            all: Arc<Vec<ActorRef<BigMsg>>>,
            rng: Rng,
            pongs: u64,
            pings: u64,
            done: Tx<()>,
        }

        impl BigState {
            fn ping(&mut self) -> Res {
                let k = self.rng.neighbour(self.me, self.all.len() as u64);
                sent(self.all[k as usize].cast(BigMsg::Ping(self.me)))
            }
        }

        impl Actor for Big {
            type Msg = BigMsg;
            type State = BigState;
            type Arguments = (u64, u64, Tx<()>);
            async fn pre_start(
                &self,
                _: ActorRef<BigMsg>,
                (me, pings, done): Self::Arguments,
            ) -> Result<BigState, ActorProcessingErr> {
                Ok(BigState {
                    me,
                    all: Arc::new(Vec::new()),
                    rng: Rng::new(me),
                    pongs: 0,
                    pings,
                    done,
                })
            }
            async fn handle(&self, _: ActorRef<BigMsg>, msg: BigMsg, s: &mut BigState) -> Res {
                match msg {
                    BigMsg::Neighbours(all) => s.all = all,
                    BigMsg::Start => s.ping()?,
                    BigMsg::Ping(from) => sent(s.all[from as usize].cast(BigMsg::Pong))?,
                    BigMsg::Pong => {
                        s.pongs += 1;
                        if s.pongs == s.pings {
                            let _ = s.done.send(());
                        } else {
                            s.ping()?;
                        }
                    }
                }
                Ok(())
            }
        }

        async fn big(actors: u64, pings: u64) -> Duration {
            let (tx, mut done) = unbounded_channel();
            let mut all = Vec::new();
            for i in 0..actors {
                all.push(start(Big, (i, pings, tx.clone())).await);
            }
            let shared = Arc::new(all.clone());
            for a in &all {
                assert!(a.cast(BigMsg::Neighbours(shared.clone())).is_ok());
            }
            let t = Instant::now();
            for a in &all {
                assert!(a.cast(BigMsg::Start).is_ok());
            }
            for _ in 0..actors {
                done.recv().await.expect("an actor finished its pings");
            }
            let took = t.elapsed();
            drop(shared);
            took
        }
    };
}
