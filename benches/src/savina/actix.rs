//! The Savina programs on actix: actors on a tokio `LocalSet` (actix actors are `!Send`),
//! `do_send` (which ignores mailbox capacity, so unbounded like the others).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::mpsc::{UnboundedSender as Tx, unbounded_channel};
use tokio::sync::oneshot;

use super::{Bench, Colour as Hue, Params, Rng, compute};
use crate::Flavor;

/// Runs one benchmark; returns the time from the first message to the result.
pub fn run(bench: Bench, flavor: Flavor, p: Params) -> Duration {
    let rt = flavor.runtime();
    tokio::task::LocalSet::new().block_on(&rt, async move {
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

struct Ping {
    left: u64,
    pong: Addr<Pong>,
    done: Tx<()>,
}
struct Pong;

#[derive(Message)]
#[rtype(result = "()")]
struct Go;
#[derive(Message)]
#[rtype(result = "()")]
struct PongBack;
#[derive(Message)]
#[rtype(result = "()")]
struct PingFrom(Addr<Ping>);

impl Actor for Ping {
    type Context = Context<Self>;
}
impl Actor for Pong {
    type Context = Context<Self>;
}

impl Ping {
    fn next(&mut self, ctx: &mut Context<Self>) {
        if self.left == 0 {
            let _ = self.done.send(());
        } else {
            self.pong.do_send(PingFrom(ctx.address()));
        }
    }
}

impl Handler<Go> for Ping {
    type Result = ();
    fn handle(&mut self, _: Go, ctx: &mut Context<Self>) {
        self.next(ctx);
    }
}

impl Handler<PongBack> for Ping {
    type Result = ();
    fn handle(&mut self, _: PongBack, ctx: &mut Context<Self>) {
        self.left -= 1;
        self.next(ctx);
    }
}

impl Handler<PingFrom> for Pong {
    type Result = ();
    fn handle(&mut self, m: PingFrom, _: &mut Context<Self>) {
        m.0.do_send(PongBack);
    }
}

async fn ping_pong(n: u64) -> Duration {
    let (tx, mut done) = unbounded_channel();
    let pong = Pong.start();
    let ping = Ping {
        left: n,
        pong,
        done: tx,
    }
    .start();
    let t = Instant::now();
    ping.do_send(Go);
    done.recv().await.expect("ping-pong finished");
    t.elapsed()
}

// ---- counting

struct Counter(u64);
#[derive(Message)]
#[rtype(result = "()")]
struct Add;
#[derive(Message)]
#[rtype(result = "()")]
struct Get(oneshot::Sender<u64>);

impl Actor for Counter {
    type Context = Context<Self>;
}

impl Handler<Add> for Counter {
    type Result = ();
    fn handle(&mut self, _: Add, _: &mut Context<Self>) {
        self.0 += 1;
    }
}

impl Handler<Get> for Counter {
    type Result = ();
    fn handle(&mut self, m: Get, _: &mut Context<Self>) {
        let _ = m.0.send(self.0);
    }
}

async fn counting(n: u64) -> Duration {
    let counter = Counter(0).start();
    let t = Instant::now();
    for _ in 0..n {
        counter.do_send(Add);
    }
    let (tx, rx) = oneshot::channel();
    counter.do_send(Get(tx));
    assert_eq!(rx.await.expect("count"), n);
    t.elapsed()
}

// ---- fork-join throughput

struct Worker {
    seen: u64,
    n: u64,
    done: Tx<()>,
}
#[derive(Message)]
#[rtype(result = "()")]
struct Work;

impl Actor for Worker {
    type Context = Context<Self>;
}

impl Handler<Work> for Worker {
    type Result = ();
    fn handle(&mut self, _: Work, _: &mut Context<Self>) {
        compute();
        self.seen += 1;
        if self.seen == self.n {
            let _ = self.done.send(());
        }
    }
}

async fn fork_join(actors: u64, n: u64) -> Duration {
    let (tx, mut done) = unbounded_channel();
    let workers: Vec<_> = (0..actors)
        .map(|_| {
            Worker {
                seen: 0,
                n,
                done: tx.clone(),
            }
            .start()
        })
        .collect();
    let t = Instant::now();
    for _ in 0..n {
        for w in &workers {
            w.do_send(Work);
        }
    }
    for _ in 0..actors {
        done.recv().await.expect("a worker finished");
    }
    t.elapsed()
}

// ---- thread ring

struct Member {
    next: Option<Addr<Member>>,
    done: Tx<()>,
}
#[derive(Message)]
#[rtype(result = "()")]
struct Next(Addr<Member>);
#[derive(Message)]
#[rtype(result = "()")]
struct Token(u64);

impl Actor for Member {
    type Context = Context<Self>;
}

impl Handler<Next> for Member {
    type Result = ();
    fn handle(&mut self, m: Next, _: &mut Context<Self>) {
        self.next = Some(m.0);
    }
}

impl Handler<Token> for Member {
    type Result = ();
    fn handle(&mut self, m: Token, _: &mut Context<Self>) {
        match (m.0, &self.next) {
            (0, _) => {
                let _ = self.done.send(());
            }
            (left, Some(next)) => next.do_send(Token(left - 1)),
            (_, None) => panic!("ring not closed"),
        }
    }
}

async fn thread_ring(actors: u64, hops: u64) -> Duration {
    let (tx, mut done) = unbounded_channel();
    let ring: Vec<_> = (0..actors)
        .map(|_| {
            Member {
                next: None,
                done: tx.clone(),
            }
            .start()
        })
        .collect();
    for (i, m) in ring.iter().enumerate() {
        m.do_send(Next(ring[(i + 1) % ring.len()].clone()));
    }
    let t = Instant::now();
    ring[0].do_send(Token(hops));
    done.recv().await.expect("the token came to rest");
    t.elapsed()
}

// ---- chameneos

struct Mall {
    left: u64,
    waiting: Option<Addr<Chameneo>>,
    faded: u64,
    sum: u64,
    total: u64,
    done: Tx<u64>,
}
struct Chameneo {
    colour: Hue,
    meetings: u64,
    mall: Addr<Mall>,
}
#[derive(Message)]
#[rtype(result = "()")]
struct MeetMall(Hue, Addr<Chameneo>);
#[derive(Message)]
#[rtype(result = "()")]
struct MeetCount(u64);
#[derive(Message)]
#[rtype(result = "()")]
struct Start;
#[derive(Message)]
#[rtype(result = "()")]
struct Meet(Hue, Addr<Chameneo>);
#[derive(Message)]
#[rtype(result = "()")]
struct Change(Hue);
#[derive(Message)]
#[rtype(result = "()")]
struct Exit;

impl Actor for Mall {
    type Context = Context<Self>;
}
impl Actor for Chameneo {
    type Context = Context<Self>;
}

impl Handler<MeetMall> for Mall {
    type Result = ();
    fn handle(&mut self, m: MeetMall, _: &mut Context<Self>) {
        let MeetMall(colour, from) = m;
        if self.left == 0 {
            from.do_send(Exit);
            return;
        }
        match self.waiting.take() {
            None => self.waiting = Some(from),
            Some(first) => {
                self.left -= 1;
                first.do_send(Meet(colour, from));
            }
        }
    }
}

impl Handler<MeetCount> for Mall {
    type Result = ();
    fn handle(&mut self, m: MeetCount, _: &mut Context<Self>) {
        self.faded += 1;
        self.sum += m.0;
        if self.faded == self.total {
            let _ = self.done.send(self.sum);
        }
    }
}

impl Handler<Start> for Chameneo {
    type Result = ();
    fn handle(&mut self, _: Start, ctx: &mut Context<Self>) {
        self.mall.do_send(MeetMall(self.colour, ctx.address()));
    }
}

impl Handler<Meet> for Chameneo {
    type Result = ();
    fn handle(&mut self, m: Meet, ctx: &mut Context<Self>) {
        self.colour = self.colour.complement(m.0);
        self.meetings += 1;
        m.1.do_send(Change(self.colour));
        self.mall.do_send(MeetMall(self.colour, ctx.address()));
    }
}

impl Handler<Change> for Chameneo {
    type Result = ();
    fn handle(&mut self, m: Change, ctx: &mut Context<Self>) {
        self.colour = m.0;
        self.meetings += 1;
        self.mall.do_send(MeetMall(self.colour, ctx.address()));
    }
}

impl Handler<Exit> for Chameneo {
    type Result = ();
    fn handle(&mut self, _: Exit, ctx: &mut Context<Self>) {
        self.mall.do_send(MeetCount(self.meetings));
        ctx.stop();
    }
}

async fn chameneos(c: u64, meetings: u64) -> Duration {
    let (tx, mut done) = unbounded_channel();
    let mall = Mall {
        left: meetings,
        waiting: None,
        faded: 0,
        sum: 0,
        total: c,
        done: tx,
    }
    .start();
    let all: Vec<_> = (0..c)
        .map(|i| {
            Chameneo {
                colour: Hue::nth(i),
                meetings: 0,
                mall: mall.clone(),
            }
            .start()
        })
        .collect();
    let t = Instant::now();
    for ch in &all {
        ch.do_send(Start);
    }
    let sum = done.recv().await.expect("every chameneo faded");
    let took = t.elapsed();
    assert_eq!(sum, 2 * meetings);
    took
}

// ---- big

struct Big {
    me: u64,
    all: Arc<Vec<Addr<Big>>>,
    rng: Rng,
    pongs: u64,
    pings: u64,
    done: Tx<()>,
}
#[derive(Message)]
#[rtype(result = "()")]
struct Neighbours(Arc<Vec<Addr<Big>>>);
#[derive(Message)]
#[rtype(result = "()")]
struct BigStart;
#[derive(Message)]
#[rtype(result = "()")]
struct BigPing(u64);
#[derive(Message)]
#[rtype(result = "()")]
struct BigPong;

impl Actor for Big {
    type Context = Context<Self>;
}

impl Big {
    fn ping(&mut self) {
        let k = self.rng.neighbour(self.me, self.all.len() as u64);
        self.all[k as usize].do_send(BigPing(self.me));
    }
}

impl Handler<Neighbours> for Big {
    type Result = ();
    fn handle(&mut self, m: Neighbours, _: &mut Context<Self>) {
        self.all = m.0;
    }
}

impl Handler<BigStart> for Big {
    type Result = ();
    fn handle(&mut self, _: BigStart, _: &mut Context<Self>) {
        self.ping();
    }
}

impl Handler<BigPing> for Big {
    type Result = ();
    fn handle(&mut self, m: BigPing, _: &mut Context<Self>) {
        self.all[m.0 as usize].do_send(BigPong);
    }
}

impl Handler<BigPong> for Big {
    type Result = ();
    fn handle(&mut self, _: BigPong, _: &mut Context<Self>) {
        self.pongs += 1;
        if self.pongs == self.pings {
            let _ = self.done.send(());
        } else {
            self.ping();
        }
    }
}

async fn big(actors: u64, pings: u64) -> Duration {
    let (tx, mut done) = unbounded_channel();
    let all: Vec<_> = (0..actors)
        .map(|me| {
            Big {
                me,
                all: Arc::new(Vec::new()),
                rng: Rng::new(me),
                pongs: 0,
                pings,
                done: tx.clone(),
            }
            .start()
        })
        .collect();
    let shared = Arc::new(all.clone());
    for a in &all {
        a.do_send(Neighbours(shared.clone()));
    }
    let t = Instant::now();
    for a in &all {
        a.do_send(BigStart);
    }
    for _ in 0..actors {
        done.recv().await.expect("an actor finished its pings");
    }
    t.elapsed()
}
