//! A small trading system under an OTP supervisor.
//!
//! A market-data feed, an order book, a risk manager and an order executor run under a
//! `OneForOne` supervisor. The feed's first connection to the exchange fails and the risk
//! manager crashes on one malformed order; the supervisor restarts both, and a watchdog
//! that monitors the children prints each restart. The run ends with the restarts per
//! child and the orders executed.
//!
//! ```text
//! cargo run --example trading
//! RUST_LOG=ensemble=debug cargo run --example trading   # the supervisor's own logs
//! cargo run --example trading -- --observe 127.0.0.1:9000  # watch it live, until Ctrl-C
//! ```
//!
//! With `--observe ADDR` the web observer serves the system at `http://ADDR/`, and after
//! the scripted session orders keep flowing (about 100 a second, a malformed one every 3
//! seconds, which crashes the risk manager) until Ctrl-C; then the summary.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ensemble::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorFlags, SupervisorSpec};
use ensemble::{
    Actor, ActorProcessingErr, ActorRef, CallError, RpcReplyPort, SupervisionEvent, registry,
};

const SYMBOLS: [(&str, f64); 3] = [("ACME", 101.0), ("GLOBEX", 54.5), ("INITECH", 12.25)];

/// One order, as parsed from the client's text.
#[derive(Debug, Clone)]
struct Order {
    side: String,
    quantity: u32,
    symbol: String,
    limit: f64,
}

fn parse_order(text: &str) -> Result<Order, ActorProcessingErr> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [side, quantity, symbol, "@", limit] = parts.as_slice() else {
        return Err(format!("malformed order {text:?}").into());
    };
    Ok(Order {
        side: side.to_string(),
        quantity: quantity
            .parse()
            .map_err(|e| format!("bad quantity in {text:?}: {e}"))?,
        symbol: symbol.to_string(),
        limit: limit
            .parse()
            .map_err(|e| format!("bad limit in {text:?}: {e}"))?,
    })
}

// ---------------------------------------------------------------- order book

enum BookMsg {
    Tick(String, f64),
    Price(String, RpcReplyPort<Option<f64>>),
    WaitForPrices(RpcReplyPort<()>),
}

struct OrderBook;

#[derive(Default)]
struct Book {
    prices: HashMap<String, f64>,
    waiting: Vec<RpcReplyPort<()>>,
}

impl Actor for OrderBook {
    type Msg = BookMsg;
    type State = Book;
    type Arguments = ();

    async fn pre_start(&self, me: ActorRef<BookMsg>, _: ()) -> Result<Book, ActorProcessingErr> {
        watched(&me);
        Ok(Book::default())
    }

    async fn handle(
        &self,
        _: ActorRef<BookMsg>,
        msg: BookMsg,
        book: &mut Book,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            BookMsg::Tick(symbol, price) => {
                book.prices.insert(symbol, price);
            }
            BookMsg::Price(symbol, reply) => reply.send(book.prices.get(&symbol).copied())?,
            BookMsg::WaitForPrices(reply) => book.waiting.push(reply),
        }
        if book.prices.len() == SYMBOLS.len() {
            for waiter in book.waiting.drain(..) {
                let _ = waiter.send(());
            }
        }
        Ok(())
    }
}

/// The order book's current price for `symbol`.
async fn market_price(symbol: &str) -> Result<f64, ActorProcessingErr> {
    let book = ActorRef::<BookMsg>::where_is("order-book").ok_or("order book not running")?;
    let price = book
        .call(
            |r| BookMsg::Price(symbol.to_string(), r),
            Some(Duration::from_secs(1)),
        )
        .await?;
    Ok(price.ok_or("no market price")?)
}

// ---------------------------------------------------------------- market feed

/// Connects to the "exchange" when it starts and publishes a price per symbol. The
/// first connection attempt of the session is refused.
struct MarketFeed {
    attempts: Arc<AtomicU32>,
}

impl Actor for MarketFeed {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, me: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        watched(&me);
        Ok(())
    }

    async fn post_start(&self, _: ActorRef<()>, _: &mut ()) -> Result<(), ActorProcessingErr> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        println!("[feed] connecting to the exchange (attempt {attempt})");
        if attempt == 1 {
            return Err("connection refused by the exchange".into());
        }
        let book = ActorRef::<BookMsg>::where_is("order-book").ok_or("order book not running")?;
        for (symbol, price) in SYMBOLS {
            book.cast(BookMsg::Tick(symbol.to_string(), price))?;
        }
        println!("[feed] connected; published {} prices", SYMBOLS.len());
        Ok(())
    }
}

// ---------------------------------------------------------------- executor

enum ExecMsg {
    Execute(Order, RpcReplyPort<f64>),
    Executed(RpcReplyPort<u32>),
}

struct Executor;

impl Actor for Executor {
    type Msg = ExecMsg;
    type State = u32;
    type Arguments = ();

    async fn pre_start(&self, me: ActorRef<ExecMsg>, _: ()) -> Result<u32, ActorProcessingErr> {
        watched(&me);
        Ok(0)
    }

    async fn handle(
        &self,
        _: ActorRef<ExecMsg>,
        msg: ExecMsg,
        executed: &mut u32,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ExecMsg::Execute(order, reply) => {
                let market = market_price(&order.symbol).await?;
                *executed += 1;
                // The scripted session's fills; the endless ones of `--observe` are not
                // printed (the observer shows the rate).
                if *executed <= 10 {
                    println!(
                        "[executor] {} {} {} at {market:.2}",
                        order.side, order.quantity, order.symbol
                    );
                }
                reply.send(market)?;
            }
            ExecMsg::Executed(reply) => reply.send(*executed)?,
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- risk manager

enum RiskMsg {
    /// An order as text; the reply is the fill price, or why it was refused.
    Submit(String, RpcReplyPort<Result<f64, String>>),
}

/// Parses orders and checks them against the market before passing them on. A parse
/// error crashes it (the bug the supervisor covers for).
struct RiskManager;

impl Actor for RiskManager {
    type Msg = RiskMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, me: ActorRef<RiskMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        watched(&me);
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<RiskMsg>,
        msg: RiskMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        let RiskMsg::Submit(text, reply) = msg;
        let order = parse_order(&text)?; // a malformed order crashes the risk manager
        let market = market_price(&order.symbol).await?;
        if (order.limit - market).abs() > market * 0.1 {
            reply.send(Err(format!(
                "limit {} is more than 10% from the market {market}",
                order.limit
            )))?;
            return Ok(());
        }
        let executor = ActorRef::<ExecMsg>::where_is("executor").ok_or("executor not running")?;
        let fill = executor
            .call(|r| ExecMsg::Execute(order, r), Some(Duration::from_secs(1)))
            .await?;
        reply.send(Ok(fill))?;
        Ok(())
    }
}

// ---------------------------------------------------------------- watchdog

/// Hears of every trading actor that goes down (each registers itself with
/// [`watched`] when it starts) and prints it: with a `Permanent` spec, every one of
/// these is followed by a restart.
struct Watchdog;

impl Actor for Watchdog {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<()>,
        evt: SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorDown(cell, reason) = evt {
            if !reason.is_normal() {
                let name = cell.name().unwrap_or_default();
                println!(
                    "[supervisor] restart: {name} went down ({reason}); the supervisor restarts it"
                );
            }
        }
        Ok(())
    }
}

/// Asks the watchdog to monitor this incarnation.
fn watched<M: Send + 'static>(myself: &ActorRef<M>) {
    if let Some(watchdog) = registry::where_is("watchdog") {
        watchdog.monitor(myself.cell());
    }
}

// ---------------------------------------------------------------- the session

fn init_logs() {
    let filter: tracing_subscriber::filter::Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| "warn".parse().unwrap_or_default());
    use tracing_subscriber::prelude::*;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
}

/// How one submitted order went.
enum Submitted {
    Filled(f64),
    Rejected(String),
    /// The risk manager crashed on it (and has been restarted since).
    Crashed,
}

/// Submits `text` to the risk manager; after a crash, waits for the supervisor to have
/// restarted it.
async fn submit(
    sup: &ActorRef<ensemble::supervisor::SupervisorMsg>,
    text: &str,
) -> Result<Submitted, Box<dyn std::error::Error>> {
    let risk = ActorRef::<RiskMsg>::where_is("risk-manager").ok_or("risk manager not running")?;
    match risk
        .call(
            |r| RiskMsg::Submit(text.to_string(), r),
            Some(Duration::from_secs(5)),
        )
        .await
    {
        Ok(Ok(fill)) => Ok(Submitted::Filled(fill)),
        Ok(Err(why)) => Ok(Submitted::Rejected(why)),
        Err(CallError::ReplyDropped) => {
            // Wait for the crashed incarnation to end; the supervisor has then heard of
            // it, and a round trip to it returns after the restart.
            risk.wait(Some(Duration::from_secs(5))).await?;
            sup.which_children().await?;
            Ok(Submitted::Crashed)
        }
        Err(e) => Err(e.into()),
    }
}

const HELP: &str = "trading: a supervised trading system (see the file's docs)

USAGE: cargo run --example trading [-- --observe ADDR]

  --observe ADDR  serve the web observer at http://ADDR/ (e.g. 127.0.0.1:9000) and keep
                  trading, a malformed order every 3 s, until Ctrl-C

Logs: set RUST_LOG, e.g. RUST_LOG=ensemble=debug";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return Ok(());
    }
    let observe = match args.iter().position(|a| a == "--observe") {
        Some(i) => Some(
            args.get(i + 1)
                .ok_or("--observe needs an address, e.g. 127.0.0.1:9000")?,
        ),
        None => None,
    };
    init_logs();
    // Started first, so that it sees every actor from its start.
    let observer = match observe {
        Some(addr) => {
            let observer = ensemble_observer::Observer::bind(addr).start().await?;
            println!("observer: {} (Ctrl-C to stop)", observer.url());
            Some(observer)
        }
        None => None,
    };
    let attempts = Arc::new(AtomicU32::new(0));
    let spec = SupervisorSpec::new(
        SupervisorFlags::new(Strategy::OneForOne).intensity(5, Duration::from_secs(10)),
    )
    .child(ChildSpec::new("order-book", || (OrderBook, ())).name("order-book"))
    .child(
        ChildSpec::new("market-feed", move || {
            (
                MarketFeed {
                    attempts: attempts.clone(),
                },
                (),
            )
        })
        .name("market-feed"),
    )
    .child(ChildSpec::new("risk-manager", || (RiskManager, ())).name("risk-manager"))
    .child(ChildSpec::new("executor", || (Executor, ())).name("executor"));
    let (watchdog, watchdog_handle) = Actor::spawn(Some("watchdog".into()), Watchdog, ()).await?;
    let (sup, sup_handle) = Supervisor::start(Some("trading".into()), spec).await?;

    // Trade once the (restarted) feed has published prices.
    let book = ActorRef::<BookMsg>::where_is("order-book").ok_or("order book not running")?;
    book.call(BookMsg::WaitForPrices, Some(Duration::from_secs(5)))
        .await?;

    let orders = [
        "BUY 100 ACME @ 101.5",
        "SELL 50 GLOBEX @ 54",
        "BUY 10 INITECH @ 12.3",
        "BUY 75 ACME @ 100.8",
        "SELL 20 INITECH @ 12.1",
        "BUY lots of ACME @ whatever",
        "SELL 30 ACME @ 101.2",
        "BUY 40 GLOBEX @ 55",
        "SELL 5 INITECH @ 12.25",
        "BUY 60 GLOBEX @ 54.9",
    ];
    let (mut executed, mut rejected) = (0u32, 0u32);
    let mut submitted = orders.len();
    for (n, text) in orders.iter().enumerate() {
        match submit(&sup, text).await? {
            Submitted::Filled(fill) => {
                executed += 1;
                println!("[client] order #{} filled at {fill}: {text}", n + 1);
            }
            Submitted::Rejected(why) => {
                rejected += 1;
                println!("[client] order #{} rejected: {why}", n + 1);
            }
            Submitted::Crashed => {
                rejected += 1;
                println!(
                    "[client] order #{} rejected: the risk manager crashed on it: {text}",
                    n + 1
                );
            }
        }
    }

    if observer.is_some() {
        println!("[client] trading on until Ctrl-C (a malformed order every 3 s)");
        let valid: Vec<&str> = orders
            .iter()
            .copied()
            .filter(|o| parse_order(o).is_ok())
            .collect();
        let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let first_crash = tokio::time::Instant::now() + Duration::from_secs(3);
        let mut crash = tokio::time::interval_at(first_crash, Duration::from_secs(3));
        loop {
            let text = tokio::select! {
                _ = &mut ctrl_c => break,
                _ = crash.tick() => "BUY lots of ACME @ whatever",
                _ = tick.tick() => valid[submitted % valid.len()],
            };
            submitted += 1;
            match submit(&sup, text).await? {
                Submitted::Filled(_) => executed += 1,
                Submitted::Rejected(_) | Submitted::Crashed => rejected += 1,
            }
        }
    }

    let executor = ActorRef::<ExecMsg>::where_is("executor").ok_or("executor not running")?;
    let done = executor
        .call(ExecMsg::Executed, Some(Duration::from_secs(1)))
        .await?;
    watchdog.stop_and_wait(None, None).await?;
    watchdog_handle.await?;
    let children = sup.which_children().await?;

    println!("\n=== Trading session summary ===");
    let restarts: Vec<String> = children
        .iter()
        .map(|c| format!("{}={}", c.id, c.restarts))
        .collect();
    println!("restarts: {}", restarts.join(" "));
    println!("orders: submitted={submitted} executed={done} rejected={rejected}");
    assert_eq!(done, executed, "the executor and the client disagree");

    sup.stop(None);
    sup_handle.await?;
    if let Some(observer) = observer {
        observer.shutdown();
    }
    Ok(())
}
