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

/// The supervision tree: the four trading actors, each restarted on its own
/// (`OneForOne`), at most 5 restarts in 10 s. `attempts` counts the feed's connections.
fn trading_spec(attempts: Arc<AtomicU32>) -> SupervisorSpec {
    SupervisorSpec::new(
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
    .child(ChildSpec::new("executor", || (Executor, ())).name("executor"))
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
    let spec = trading_spec(Arc::new(AtomicU32::new(0)));
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

// ---------------------------------------------------------------- tests
//
// `cargo test --example trading` (and plain `cargo test`): the trading actors on paused
// time with the test kit (`ensemble-test`). A probe registered as "watchdog" hears of
// every crash; a trace and a fault plan look into the executor.

#[cfg(test)]
mod tests {
    use super::*;
    use ensemble::ExitReason;
    use ensemble::supervisor::SupervisorMsg;
    use ensemble_test::{FaultPlan, TestProbe, Trace, paused_runtime, within};

    /// The actors find each other by name, and names are global: one session at a time.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// Runs `test` on paused time against a started session: the supervisor, and a probe
    /// standing in for the watchdog (it monitors every trading actor as it starts).
    fn session<F: Future<Output = ()>>(
        test: impl FnOnce(ActorRef<SupervisorMsg>, TestProbe<()>) -> F,
    ) {
        let _one = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        paused_runtime().block_on(async {
            let watchdog =
                TestProbe::<()>::spawn_with(ensemble::SpawnOptions::default().name("watchdog"))
                    .await;
            let attempts = Arc::new(AtomicU32::new(0));
            let (sup, handle) = Supervisor::start(None, trading_spec(attempts))
                .await
                .unwrap();
            // The feed's first connection is refused: it goes down once and is restarted.
            let (_, reason) = watchdog.expect_down().await;
            assert!(
                matches!(&reason, ExitReason::Failed(why) if why.contains("connection refused")),
                "{reason}"
            );
            let book = ActorRef::<BookMsg>::where_is("order-book").unwrap();
            book.call(BookMsg::WaitForPrices, Some(Duration::from_secs(5)))
                .await
                .unwrap();
            test(sup.clone(), watchdog).await;
            sup.stop(None);
            handle.await.unwrap();
        });
    }

    async fn restarts(sup: &ActorRef<SupervisorMsg>) -> Vec<(String, u32)> {
        let children = sup.which_children().await.unwrap();
        children
            .iter()
            .map(|c| (c.id.clone(), c.restarts))
            .collect()
    }

    #[test]
    fn valid_orders_fill_at_the_market_and_nothing_else_goes_down() {
        session(|sup, watchdog| async move {
            for (text, market) in [
                ("BUY 100 ACME @ 101.5", 101.0),
                ("SELL 50 GLOBEX @ 54", 54.5),
            ] {
                match submit(&sup, text).await.unwrap() {
                    Submitted::Filled(fill) => assert_eq!(fill, market),
                    _ => panic!("{text} did not fill"),
                }
            }
            // Paused time: an hour of silence costs nothing.
            watchdog.expect_no_event(Duration::from_secs(3600)).await;
            let executor = ActorRef::<ExecMsg>::where_is("executor").unwrap();
            assert_eq!(executor.inspect(|n: &mut u32| *n).await.unwrap(), 2);
            let feed_restarted = restarts(&sup)
                .await
                .into_iter()
                .map(|(_, n)| n)
                .collect::<Vec<_>>();
            assert_eq!(feed_restarted, [0, 1, 0, 0]);
        });
    }

    #[test]
    fn a_malformed_order_crashes_the_risk_manager_once_and_the_next_order_fills() {
        session(|sup, watchdog| async move {
            let risk = ActorRef::<RiskMsg>::where_is("risk-manager").unwrap();
            assert!(matches!(
                submit(&sup, "BUY lots of ACME @ whatever").await.unwrap(),
                Submitted::Crashed
            ));
            let (id, reason) = watchdog.expect_down().await;
            assert_eq!(id, risk.id());
            assert!(
                matches!(&reason, ExitReason::Failed(why) if why.contains("malformed order")),
                "{reason}"
            );
            assert!(matches!(
                submit(&sup, "SELL 30 ACME @ 101.2").await.unwrap(),
                Submitted::Filled(_)
            ));
            assert_eq!(restarts(&sup).await[2], ("risk-manager".into(), 1));
        });
    }

    #[test]
    fn an_order_far_from_the_market_never_reaches_the_executor() {
        session(|sup, _watchdog| async move {
            let executor = ActorRef::<ExecMsg>::where_is("executor").unwrap();
            let trace = Trace::install_with(&executor, |msg: &ExecMsg| match msg {
                ExecMsg::Execute(order, _) => format!("execute {} {}", order.side, order.symbol),
                ExecMsg::Executed(_) => "executed?".into(),
            });
            assert!(matches!(
                submit(&sup, "BUY 1 ACME @ 150").await.unwrap(),
                Submitted::Rejected(_)
            ));
            assert!(matches!(
                submit(&sup, "BUY 1 INITECH @ 12.3").await.unwrap(),
                Submitted::Filled(_)
            ));
            assert_eq!(trace.messages(), ["execute BUY INITECH"]);
        });
    }

    #[test]
    fn a_stalled_executor_times_the_risk_manager_out_after_a_second_and_it_restarts() {
        session(|sup, watchdog| async move {
            let executor = ActorRef::<ExecMsg>::where_is("executor").unwrap();
            let risk = ActorRef::<RiskMsg>::where_is("risk-manager").unwrap();
            let faults = FaultPlan::new(1).stall_on(1).install(&executor);
            // The risk manager's call to the executor times out after 1 s (on the paused
            // clock: exactly), which fails it; the client's call comes back at once.
            let ms = Duration::from_millis;
            let outcome = within(ms(1000)..ms(1001), submit(&sup, "BUY 1 GLOBEX @ 54.5")).await;
            assert!(matches!(outcome.unwrap(), Submitted::Crashed));
            assert_eq!(faults.injected(), [(1, "stall".to_string())]);
            let (id, reason) = watchdog.expect_down().await;
            assert_eq!(id, risk.id());
            assert!(
                matches!(&reason, ExitReason::Failed(why) if why.contains("timed out")),
                "{reason}"
            );
            // The hung executor is killed (as an operator would); it is restarted, and
            // orders fill again.
            executor.kill();
            assert_eq!(
                watchdog.expect_down().await,
                (executor.id(), ExitReason::Killed)
            );
            assert!(matches!(
                submit(&sup, "BUY 1 GLOBEX @ 54.5").await.unwrap(),
                Submitted::Filled(_)
            ));
        });
    }
}
