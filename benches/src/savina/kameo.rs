//! The Savina programs on kameo: the actor struct is its state, one `Message<M>` impl per
//! message type, `tell(..).try_send()` on unbounded mailboxes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kameo::actor::{Actor, ActorRef, Spawn};
use kameo::error::Infallible;
use kameo::mailbox;
use kameo::message::{Context, Message};
use tokio::sync::mpsc::{UnboundedSender as Tx, unbounded_channel};
use tokio::sync::oneshot;

use super::{Bench, Colour, Params, Rng, compute};
use crate::Flavor;

/// Sends `m` to `to` (unbounded: only a stopped actor refuses).
fn tell<A, M>(to: &ActorRef<A>, m: M)
where
    A: Actor + Message<M>,
    M: Send + 'static,
{
    assert!(to.tell(m).try_send().is_ok(), "kameo tell");
}

fn start<A: Actor>(args: A::Args) -> ActorRef<A> {
    A::spawn_with_mailbox(args, mailbox::unbounded())
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

struct Ping {
    left: u64,
    pong: ActorRef<Pong>,
    done: Tx<()>,
}
struct Pong;
struct Go;
struct PongBack;
struct PingFrom(ActorRef<Ping>);

impl Actor for Ping {
    type Args = Self;
    type Error = Infallible;
    async fn on_start(s: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(s)
    }
}

impl Ping {
    fn next(&mut self, me: &ActorRef<Ping>) {
        if self.left == 0 {
            let _ = self.done.send(());
        } else {
            tell(&self.pong, PingFrom(me.clone()));
        }
    }
}

impl Message<Go> for Ping {
    type Reply = ();
    async fn handle(&mut self, _: Go, ctx: &mut Context<Self, ()>) {
        self.next(ctx.actor_ref());
    }
}

impl Message<PongBack> for Ping {
    type Reply = ();
    async fn handle(&mut self, _: PongBack, ctx: &mut Context<Self, ()>) {
        self.left -= 1;
        self.next(ctx.actor_ref());
    }
}

impl Actor for Pong {
    type Args = ();
    type Error = Infallible;
    async fn on_start(_: (), _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Pong)
    }
}

impl Message<PingFrom> for Pong {
    type Reply = ();
    async fn handle(&mut self, m: PingFrom, _: &mut Context<Self, ()>) {
        tell(&m.0, PongBack);
    }
}

async fn ping_pong(n: u64) -> Duration {
    let (tx, mut done) = unbounded_channel();
    let pong = start::<Pong>(());
    let ping = start::<Ping>(Ping {
        left: n,
        pong,
        done: tx,
    });
    let t = Instant::now();
    tell(&ping, Go);
    done.recv().await.expect("ping-pong finished");
    t.elapsed()
}

// ---- counting

struct Counter(u64);
struct Add;
struct Get(oneshot::Sender<u64>);

impl Actor for Counter {
    type Args = ();
    type Error = Infallible;
    async fn on_start(_: (), _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Counter(0))
    }
}

impl Message<Add> for Counter {
    type Reply = ();
    async fn handle(&mut self, _: Add, _: &mut Context<Self, ()>) {
        self.0 += 1;
    }
}

impl Message<Get> for Counter {
    type Reply = ();
    async fn handle(&mut self, m: Get, _: &mut Context<Self, ()>) {
        let _ = m.0.send(self.0);
    }
}

async fn counting(n: u64) -> Duration {
    let counter = start::<Counter>(());
    let t = Instant::now();
    for _ in 0..n {
        tell(&counter, Add);
    }
    let (tx, rx) = oneshot::channel();
    tell(&counter, Get(tx));
    assert_eq!(rx.await.expect("count"), n);
    t.elapsed()
}

// ---- fork-join throughput

struct Worker {
    seen: u64,
    n: u64,
    done: Tx<()>,
}
struct Work;

impl Actor for Worker {
    type Args = Self;
    type Error = Infallible;
    async fn on_start(s: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(s)
    }
}

impl Message<Work> for Worker {
    type Reply = ();
    async fn handle(&mut self, _: Work, _: &mut Context<Self, ()>) {
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
            start::<Worker>(Worker {
                seen: 0,
                n,
                done: tx.clone(),
            })
        })
        .collect();
    let t = Instant::now();
    for _ in 0..n {
        for w in &workers {
            tell(w, Work);
        }
    }
    for _ in 0..actors {
        done.recv().await.expect("a worker finished");
    }
    t.elapsed()
}

// ---- thread ring

struct Member {
    next: Option<ActorRef<Member>>,
    done: Tx<()>,
}
struct Next(ActorRef<Member>);
struct Token(u64);

impl Actor for Member {
    type Args = Tx<()>;
    type Error = Infallible;
    async fn on_start(done: Tx<()>, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Member { next: None, done })
    }
}

impl Message<Next> for Member {
    type Reply = ();
    async fn handle(&mut self, m: Next, _: &mut Context<Self, ()>) {
        self.next = Some(m.0);
    }
}

impl Message<Token> for Member {
    type Reply = ();
    async fn handle(&mut self, m: Token, _: &mut Context<Self, ()>) {
        match (m.0, &self.next) {
            (0, _) => {
                let _ = self.done.send(());
            }
            (left, Some(next)) => tell(next, Token(left - 1)),
            (_, None) => panic!("ring not closed"),
        }
    }
}

async fn thread_ring(actors: u64, hops: u64) -> Duration {
    let (tx, mut done) = unbounded_channel();
    let ring: Vec<_> = (0..actors).map(|_| start::<Member>(tx.clone())).collect();
    for (i, m) in ring.iter().enumerate() {
        tell(m, Next(ring[(i + 1) % ring.len()].clone()));
    }
    let t = Instant::now();
    tell(&ring[0], Token(hops));
    done.recv().await.expect("the token came to rest");
    t.elapsed()
}

// ---- chameneos

struct Mall {
    left: u64,
    waiting: Option<ActorRef<Chameneo>>,
    faded: u64,
    sum: u64,
    total: u64,
    done: Tx<u64>,
}
struct Chameneo {
    colour: Colour,
    meetings: u64,
    mall: ActorRef<Mall>,
}
struct MeetMall(Colour, ActorRef<Chameneo>);
struct MeetCount(u64);
struct Start;
struct Meet(Colour, ActorRef<Chameneo>);
struct Change(Colour);
struct Exit;

impl Actor for Mall {
    type Args = Self;
    type Error = Infallible;
    async fn on_start(s: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(s)
    }
}

impl Message<MeetMall> for Mall {
    type Reply = ();
    async fn handle(&mut self, m: MeetMall, _: &mut Context<Self, ()>) {
        let MeetMall(colour, from) = m;
        if self.left == 0 {
            tell(&from, Exit);
            return;
        }
        match self.waiting.take() {
            None => self.waiting = Some(from),
            Some(first) => {
                self.left -= 1;
                tell(&first, Meet(colour, from));
            }
        }
    }
}

impl Message<MeetCount> for Mall {
    type Reply = ();
    async fn handle(&mut self, m: MeetCount, _: &mut Context<Self, ()>) {
        self.faded += 1;
        self.sum += m.0;
        if self.faded == self.total {
            let _ = self.done.send(self.sum);
        }
    }
}

impl Actor for Chameneo {
    type Args = Self;
    type Error = Infallible;
    async fn on_start(s: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(s)
    }
}

impl Message<Start> for Chameneo {
    type Reply = ();
    async fn handle(&mut self, _: Start, ctx: &mut Context<Self, ()>) {
        tell(&self.mall, MeetMall(self.colour, ctx.actor_ref().clone()));
    }
}

impl Message<Meet> for Chameneo {
    type Reply = ();
    async fn handle(&mut self, m: Meet, ctx: &mut Context<Self, ()>) {
        self.colour = self.colour.complement(m.0);
        self.meetings += 1;
        tell(&m.1, Change(self.colour));
        tell(&self.mall, MeetMall(self.colour, ctx.actor_ref().clone()));
    }
}

impl Message<Change> for Chameneo {
    type Reply = ();
    async fn handle(&mut self, m: Change, ctx: &mut Context<Self, ()>) {
        self.colour = m.0;
        self.meetings += 1;
        tell(&self.mall, MeetMall(self.colour, ctx.actor_ref().clone()));
    }
}

impl Message<Exit> for Chameneo {
    type Reply = ();
    async fn handle(&mut self, _: Exit, ctx: &mut Context<Self, ()>) {
        tell(&self.mall, MeetCount(self.meetings));
        ctx.stop();
    }
}

async fn chameneos(c: u64, meetings: u64) -> Duration {
    let (tx, mut done) = unbounded_channel();
    let mall = start::<Mall>(Mall {
        left: meetings,
        waiting: None,
        faded: 0,
        sum: 0,
        total: c,
        done: tx,
    });
    let all: Vec<_> = (0..c)
        .map(|i| {
            start::<Chameneo>(Chameneo {
                colour: Colour::nth(i),
                meetings: 0,
                mall: mall.clone(),
            })
        })
        .collect();
    let t = Instant::now();
    for ch in &all {
        tell(ch, Start);
    }
    let sum = done.recv().await.expect("every chameneo faded");
    let took = t.elapsed();
    assert_eq!(sum, 2 * meetings);
    took
}

// ---- big

struct Big {
    me: u64,
    all: Arc<Vec<ActorRef<Big>>>,
    rng: Rng,
    pongs: u64,
    pings: u64,
    done: Tx<()>,
}
struct Neighbours(Arc<Vec<ActorRef<Big>>>);
struct BigStart;
struct BigPing(u64);
struct BigPong;

impl Big {
    fn ping(&mut self) {
        let k = self.rng.neighbour(self.me, self.all.len() as u64);
        tell(&self.all[k as usize], BigPing(self.me));
    }
}

impl Actor for Big {
    type Args = Self;
    type Error = Infallible;
    async fn on_start(s: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(s)
    }
}

impl Message<Neighbours> for Big {
    type Reply = ();
    async fn handle(&mut self, m: Neighbours, _: &mut Context<Self, ()>) {
        self.all = m.0;
    }
}

impl Message<BigStart> for Big {
    type Reply = ();
    async fn handle(&mut self, _: BigStart, _: &mut Context<Self, ()>) {
        self.ping();
    }
}

impl Message<BigPing> for Big {
    type Reply = ();
    async fn handle(&mut self, m: BigPing, _: &mut Context<Self, ()>) {
        tell(&self.all[m.0 as usize], BigPong);
    }
}

impl Message<BigPong> for Big {
    type Reply = ();
    async fn handle(&mut self, _: BigPong, _: &mut Context<Self, ()>) {
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
            start::<Big>(Big {
                me,
                all: Arc::new(Vec::new()),
                rng: Rng::new(me),
                pongs: 0,
                pings,
                done: tx.clone(),
            })
        })
        .collect();
    let shared = Arc::new(all.clone());
    for a in &all {
        tell(a, Neighbours(shared.clone()));
    }
    let t = Instant::now();
    for a in &all {
        tell(a, BigStart);
    }
    for _ in 0..actors {
        done.recv().await.expect("an actor finished its pings");
    }
    t.elapsed()
}
