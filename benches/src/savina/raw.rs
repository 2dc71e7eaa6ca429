//! The Savina programs on raw tokio: each actor a task reading an unbounded mpsc channel
//! (the floor the actor frameworks are compared against).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver as Rx, UnboundedSender as Tx, unbounded_channel};
use tokio::sync::oneshot;

use super::{Bench, Colour, Params, Rng, compute};
use crate::Flavor;

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

fn send<T>(to: &Tx<T>, m: T) {
    assert!(to.send(m).is_ok(), "a task ended early");
}

async fn ping_pong(n: u64) -> Duration {
    let (done, mut finished) = unbounded_channel::<()>();
    let (pong_tx, mut pong_rx) = unbounded_channel::<Tx<()>>();
    tokio::spawn(async move {
        while let Some(from) = pong_rx.recv().await {
            let _ = from.send(());
        }
    });
    let (ping_tx, mut ping_rx) = unbounded_channel::<()>();
    let me = ping_tx.clone();
    tokio::spawn(async move {
        let mut left = n;
        while ping_rx.recv().await.is_some() {
            if left == 0 {
                let _ = done.send(());
                return;
            }
            left -= 1;
            send(&pong_tx, me.clone());
        }
    });
    let t = Instant::now();
    send(&ping_tx, ()); // start: the first ping goes out; each pong triggers the next
    finished.recv().await.expect("ping-pong finished");
    t.elapsed()
}

enum CountMsg {
    Add,
    Get(oneshot::Sender<u64>),
}

async fn counting(n: u64) -> Duration {
    let (tx, mut rx) = unbounded_channel::<CountMsg>();
    tokio::spawn(async move {
        let mut count = 0;
        while let Some(m) = rx.recv().await {
            match m {
                CountMsg::Add => count += 1,
                CountMsg::Get(r) => {
                    let _ = r.send(count);
                }
            }
        }
    });
    let t = Instant::now();
    for _ in 0..n {
        send(&tx, CountMsg::Add);
    }
    let (r, got) = oneshot::channel();
    send(&tx, CountMsg::Get(r));
    assert_eq!(got.await.expect("count"), n);
    t.elapsed()
}

async fn fork_join(actors: u64, n: u64) -> Duration {
    let (done, mut finished) = unbounded_channel::<()>();
    let workers: Vec<Tx<()>> = (0..actors)
        .map(|_| {
            let (tx, mut rx) = unbounded_channel::<()>();
            let done = done.clone();
            tokio::spawn(async move {
                let mut seen = 0;
                while rx.recv().await.is_some() {
                    compute();
                    seen += 1;
                    if seen == n {
                        let _ = done.send(());
                    }
                }
            });
            tx
        })
        .collect();
    let t = Instant::now();
    for _ in 0..n {
        for w in &workers {
            send(w, ());
        }
    }
    for _ in 0..actors {
        finished.recv().await.expect("a worker finished");
    }
    t.elapsed()
}

async fn thread_ring(actors: u64, hops: u64) -> Duration {
    let (done, mut finished) = unbounded_channel::<()>();
    let (txs, rxs): (Vec<Tx<u64>>, Vec<Rx<u64>>) =
        (0..actors).map(|_| unbounded_channel::<u64>()).unzip();
    for (i, mut rx) in rxs.into_iter().enumerate() {
        let next = txs[(i + 1) % txs.len()].clone();
        let done = done.clone();
        tokio::spawn(async move {
            while let Some(left) = rx.recv().await {
                if left == 0 {
                    let _ = done.send(());
                } else {
                    let _ = next.send(left - 1);
                }
            }
        });
    }
    let t = Instant::now();
    send(&txs[0], hops);
    finished.recv().await.expect("the token came to rest");
    t.elapsed()
}

enum MallMsg {
    Meet(Colour, usize),
    Count(u64),
}
enum ChamMsg {
    Meet(Colour, usize),
    Change(Colour),
    Exit,
}

async fn chameneos(c: u64, meetings: u64) -> Duration {
    let (done, mut finished) = unbounded_channel::<u64>();
    let (mall_tx, mut mall_rx) = unbounded_channel::<MallMsg>();
    let (txs, rxs): (Vec<Tx<ChamMsg>>, Vec<Rx<ChamMsg>>) =
        (0..c).map(|_| unbounded_channel::<ChamMsg>()).unzip();
    let txs = Arc::new(txs);
    {
        let txs = txs.clone();
        tokio::spawn(async move {
            let (mut left, mut waiting, mut faded, mut sum) = (meetings, None, 0, 0);
            while let Some(m) = mall_rx.recv().await {
                match m {
                    MallMsg::Meet(_, from) if left == 0 => {
                        let _ = txs[from].send(ChamMsg::Exit);
                    }
                    MallMsg::Meet(colour, from) => match waiting.take() {
                        None => waiting = Some(from),
                        Some(first) => {
                            left -= 1;
                            let _ = txs[first].send(ChamMsg::Meet(colour, from));
                        }
                    },
                    MallMsg::Count(n) => {
                        faded += 1;
                        sum += n;
                        if faded == c {
                            let _ = done.send(sum);
                        }
                    }
                }
            }
        });
    }
    let mut starts = Vec::new();
    for (i, mut rx) in rxs.into_iter().enumerate() {
        let (mall, txs) = (mall_tx.clone(), txs.clone());
        let (go, started) = oneshot::channel::<()>();
        starts.push(go);
        tokio::spawn(async move {
            let mut colour = Colour::nth(i as u64);
            let mut count = 0;
            if started.await.is_err() {
                return;
            }
            let _ = mall.send(MallMsg::Meet(colour, i));
            while let Some(m) = rx.recv().await {
                match m {
                    ChamMsg::Meet(other, from) => {
                        colour = colour.complement(other);
                        count += 1;
                        let _ = txs[from].send(ChamMsg::Change(colour));
                        let _ = mall.send(MallMsg::Meet(colour, i));
                    }
                    ChamMsg::Change(new) => {
                        colour = new;
                        count += 1;
                        let _ = mall.send(MallMsg::Meet(colour, i));
                    }
                    ChamMsg::Exit => {
                        let _ = mall.send(MallMsg::Count(count));
                        return;
                    }
                }
            }
        });
    }
    let t = Instant::now();
    for go in starts {
        let _ = go.send(());
    }
    let sum = finished.recv().await.expect("every chameneo faded");
    let took = t.elapsed();
    assert_eq!(sum, 2 * meetings);
    took
}

enum BigMsg {
    Start,
    Ping(u64),
    Pong,
}

async fn big(actors: u64, pings: u64) -> Duration {
    let (done, mut finished) = unbounded_channel::<()>();
    let (txs, rxs): (Vec<Tx<BigMsg>>, Vec<Rx<BigMsg>>) =
        (0..actors).map(|_| unbounded_channel::<BigMsg>()).unzip();
    let txs = Arc::new(txs);
    for (me, mut rx) in rxs.into_iter().enumerate() {
        let (all, done) = (txs.clone(), done.clone());
        tokio::spawn(async move {
            let me = me as u64;
            let (mut rng, mut pongs) = (Rng::new(me), 0);
            let ping = |rng: &mut Rng| {
                let k = rng.neighbour(me, all.len() as u64);
                let _ = all[k as usize].send(BigMsg::Ping(me));
            };
            while let Some(m) = rx.recv().await {
                match m {
                    BigMsg::Start => ping(&mut rng),
                    BigMsg::Ping(from) => {
                        let _ = txs_send(&all, from, BigMsg::Pong);
                    }
                    BigMsg::Pong => {
                        pongs += 1;
                        if pongs == pings {
                            let _ = done.send(());
                        } else {
                            ping(&mut rng);
                        }
                    }
                }
            }
        });
    }
    let t = Instant::now();
    for tx in txs.iter() {
        send(tx, BigMsg::Start);
    }
    for _ in 0..actors {
        finished.recv().await.expect("an actor finished its pings");
    }
    t.elapsed()
}

fn txs_send(all: &[Tx<BigMsg>], to: u64, m: BigMsg) -> bool {
    all[to as usize].send(m).is_ok()
}
