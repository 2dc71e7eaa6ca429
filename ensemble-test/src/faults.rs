//! [`FaultPlan`]: deterministic fault injection into one actor's message handling.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ensemble::ActorRef;
use ensemble::testing::Directive;

/// Which messages a rule applies to.
#[derive(Debug, Clone)]
enum When {
    /// The `n`th message the actor takes (from 1).
    Nth(u64),
    /// Every `n`th message (n, 2n, 3n, ...).
    Every(u64),
    /// Each message with this probability, drawn from the plan's seeded generator.
    Chance(f64),
}

/// Faults to inject into an actor: fail, panic or stall on its Nth message or with a
/// probability; delay or drop messages. Every draw comes from a generator seeded by the
/// plan's seed, so a run is the same every time: a failing seed reproduces.
///
/// Rules are checked in the order they were added for each message the actor takes
/// (counted from 1); the first that applies decides. [`install`](Self::install) puts
/// the plan on an actor as its message hook (replacing any other hook) and returns a
/// [`FaultLog`] of what was injected.
///
/// ```
/// use std::time::Duration;
/// use ensemble::{Actor, ActorProcessingErr, ActorRef};
/// use ensemble_test::{FaultPlan, TestProbe};
///
/// struct Echo;
/// impl Actor for Echo {
///     type Msg = u32;
///     type State = ();
///     type Arguments = ();
///     async fn pre_start(&self, _: ActorRef<u32>, _: ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
///     async fn handle(&self, _: ActorRef<u32>, _: u32, _: &mut ()) -> Result<(), ActorProcessingErr> {
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let supervisor = TestProbe::<()>::spawn().await;
/// let (echo, _) = Actor::spawn_linked(None, Echo, (), supervisor.cell()).await.unwrap();
/// supervisor.expect_started().await;
/// let log = FaultPlan::new(7).fail_on(3).install(&echo);
/// for n in 0..5 {
///     let _ = echo.cast(n);
/// }
/// let (_, error) = supervisor.expect_failed().await;
/// assert!(error.contains("injected"), "{error}");
/// assert_eq!(log.injected(), vec![(3, "fail".to_string())]);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FaultPlan {
    seed: u64,
    rules: Vec<(When, Directive)>,
}

impl FaultPlan {
    /// An empty plan (every message handled) whose draws are seeded by `seed`.
    pub fn new(seed: u64) -> FaultPlan {
        FaultPlan {
            seed,
            rules: Vec::new(),
        }
    }

    fn rule(mut self, when: When, directive: Directive) -> FaultPlan {
        self.rules.push((when, directive));
        self
    }

    /// The actor fails (as if `handle` returned an error) on its `n`th message.
    #[must_use]
    pub fn fail_on(self, n: u64) -> FaultPlan {
        self.rule(
            When::Nth(n),
            Directive::Fail(format!("injected failure on message {n}")),
        )
    }

    /// The actor panics on its `n`th message.
    #[must_use]
    pub fn panic_on(self, n: u64) -> FaultPlan {
        self.rule(
            When::Nth(n),
            Directive::Panic(format!("injected panic on message {n}")),
        )
    }

    /// The actor hangs in `handle` on its `n`th message (only a kill ends it).
    #[must_use]
    pub fn stall_on(self, n: u64) -> FaultPlan {
        self.rule(When::Nth(n), Directive::Stall)
    }

    /// The `n`th message is dropped unhandled (a dead letter).
    #[must_use]
    pub fn drop_on(self, n: u64) -> FaultPlan {
        self.rule(When::Nth(n), Directive::Drop)
    }

    /// Every `n`th message is dropped unhandled.
    #[must_use]
    pub fn drop_every(self, n: u64) -> FaultPlan {
        self.rule(When::Every(n.max(1)), Directive::Drop)
    }

    /// Each message fails the actor with probability `p`.
    #[must_use]
    pub fn fail_with_probability(self, p: f64) -> FaultPlan {
        self.rule(When::Chance(p), Directive::Fail("injected failure".into()))
    }

    /// Each message panics the actor with probability `p`.
    #[must_use]
    pub fn panic_with_probability(self, p: f64) -> FaultPlan {
        self.rule(When::Chance(p), Directive::Panic("injected panic".into()))
    }

    /// Each message is dropped with probability `p`.
    #[must_use]
    pub fn drop_with_probability(self, p: f64) -> FaultPlan {
        self.rule(When::Chance(p), Directive::Drop)
    }

    /// Each message is delayed by `delay` (tokio's clock) with probability `p`, then
    /// handled.
    #[must_use]
    pub fn delay_with_probability(self, p: f64, delay: Duration) -> FaultPlan {
        self.rule(When::Chance(p), Directive::Delay(delay))
    }

    /// Every message is delayed by `delay`, then handled.
    #[must_use]
    pub fn delay_all(self, delay: Duration) -> FaultPlan {
        self.rule(When::Every(1), Directive::Delay(delay))
    }

    /// Puts the plan on `actor` (replacing its message hook) and returns the log of
    /// what it injects. Counting starts at the next message the actor takes.
    pub fn install<M: Send + 'static>(self, actor: &ActorRef<M>) -> FaultLog {
        let log = FaultLog::default();
        let state = Mutex::new((0u64, SplitMix64(self.seed)));
        let rules = self.rules;
        let record = log.clone();
        actor.set_message_hook(move |_: &M| {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            let (count, rng) = &mut *state;
            *count += 1;
            let n = *count;
            for (when, directive) in &rules {
                let applies = match when {
                    When::Nth(k) => n == *k,
                    When::Every(k) => n % k == 0,
                    When::Chance(p) => rng.chance(*p),
                };
                if applies {
                    record.push(n, directive);
                    return directive.clone();
                }
            }
            Directive::Handle
        });
        log
    }
}

/// What a [`FaultPlan`] injected: shared with the hook, readable at any time.
#[derive(Debug, Clone, Default)]
pub struct FaultLog(Arc<Mutex<Vec<(u64, String)>>>);

impl FaultLog {
    fn push(&self, n: u64, directive: &Directive) {
        let what = match directive {
            Directive::Handle => "handle",
            Directive::Drop => "drop",
            Directive::Delay(_) => "delay",
            Directive::Fail(_) => "fail",
            Directive::Panic(_) => "panic",
            Directive::Stall => "stall",
            _ => "other",
        };
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((n, what.to_string()));
    }

    /// Each injected fault: the message's number (from 1) and what was done to it
    /// (`"fail"`, `"panic"`, `"stall"`, `"drop"`, `"delay"`).
    pub fn injected(&self) -> Vec<(u64, String)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many faults were injected.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A small, well-mixed generator (Steele, Lea and Flood's SplitMix64): enough for fault
/// draws, and the same sequence everywhere for a seed.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `p` (clamped to 0..=1).
    fn chance(&mut self, p: f64) -> bool {
        // 53 random bits as a float in [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_the_same_for_a_seed_and_differ_across_seeds() {
        let draws = |seed| {
            let mut r = SplitMix64(seed);
            (0..64).map(|_| r.chance(0.5)).collect::<Vec<_>>()
        };
        assert_eq!(draws(1), draws(1));
        assert_ne!(draws(1), draws(2));
        let mut r = SplitMix64(9);
        let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
        assert!((2_250..2_750).contains(&hits), "{hits}");
        assert!(!SplitMix64(3).chance(0.0));
        assert!(SplitMix64(3).chance(1.0));
    }
}
