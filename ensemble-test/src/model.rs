//! Model-based tests of actors: proptest generates sequences of operations, each applied
//! to the real actors and to a small model of what they should do, and the two are
//! compared after every step; a failure shrinks to a minimal sequence.
//!
//! Implement [`StateMachine`] and run it with [`ModelTest`]. Each case runs on its own
//! current-thread runtime with paused time (see [`paused_runtime`](crate::paused_runtime)),
//! so timers, timeouts and backoff in the model cost no wall time and runs repeat
//! exactly.

use std::fmt::Debug;
use std::ops::Range;

use proptest::collection::vec;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};

/// A model of an actor system, and how to drive the real one alongside it.
///
/// The methods are `async` without a `Send` bound on purpose: a case runs on one
/// current-thread runtime.
#[allow(async_fn_in_trait)] // see above
pub trait StateMachine: Sized {
    /// What a case starts from (generated): sizes, strategies, initial children.
    type Setup: Debug + Clone;
    /// One generated operation.
    type Op: Debug + Clone;
    /// The real system under test (actor references, mostly).
    type System;

    /// Generates setups.
    fn setup() -> impl Strategy<Value = Self::Setup>;

    /// Generates operations.
    fn op() -> impl Strategy<Value = Self::Op>;

    /// Starts the real system and builds the model of it.
    async fn start(setup: Self::Setup) -> Result<(Self, Self::System), TestCaseError>;

    /// Applies `op` to the real system and to the model (an op that does not apply in
    /// the current state may do nothing).
    async fn apply(&mut self, system: &mut Self::System, op: Self::Op)
    -> Result<(), TestCaseError>;

    /// Compares the real system with the model: after `start` and after every op.
    async fn check(&self, system: &Self::System) -> Result<(), TestCaseError>;

    /// Whether the case is over before its ops run out (the model says the system ended).
    fn finished(&self) -> bool {
        false
    }

    /// Tears the real system down at the end of a case.
    async fn stop(self, system: Self::System) {
        drop(system);
    }
}

/// Runs a [`StateMachine`] under proptest.
///
/// ```
/// use ensemble::{Actor, ActorProcessingErr, ActorRef};
/// use ensemble_test::model::{ModelTest, StateMachine};
/// use proptest::prelude::*;
/// use proptest::test_runner::TestCaseError;
///
/// // The actor under test: a counter.
/// struct Counter;
/// impl Actor for Counter {
///     type Msg = i64;
///     type State = i64;
///     type Arguments = i64;
///     async fn pre_start(&self, _: ActorRef<i64>, start: i64) -> Result<i64, ActorProcessingErr> {
///         Ok(start)
///     }
///     async fn handle(&self, _: ActorRef<i64>, n: i64, sum: &mut i64) -> Result<(), ActorProcessingErr> {
///         *sum += n;
///         Ok(())
///     }
/// }
///
/// // Its model: a number.
/// struct Model(i64);
/// impl StateMachine for Model {
///     type Setup = i64;
///     type Op = i64;
///     type System = ActorRef<i64>;
///     fn setup() -> impl Strategy<Value = i64> { -100..100i64 }
///     fn op() -> impl Strategy<Value = i64> { -10..10i64 }
///     async fn start(start: i64) -> Result<(Self, ActorRef<i64>), TestCaseError> {
///         let (counter, _) = Actor::spawn(None, Counter, start).await.unwrap();
///         Ok((Model(start), counter))
///     }
///     async fn apply(&mut self, counter: &mut ActorRef<i64>, n: i64) -> Result<(), TestCaseError> {
///         counter.cast(n).unwrap();
///         self.0 += n;
///         Ok(())
///     }
///     async fn check(&self, counter: &ActorRef<i64>) -> Result<(), TestCaseError> {
///         let real = counter.inspect(|sum: &mut i64| *sum).await.unwrap();
///         prop_assert_eq!(real, self.0);
///         Ok(())
///     }
/// }
///
/// ModelTest::new().cases(32).steps(1..20).run::<Model>();
/// ```
#[derive(Debug, Clone)]
pub struct ModelTest {
    cases: u32,
    steps: Range<usize>,
    source_file: Option<&'static str>,
}

impl Default for ModelTest {
    fn default() -> Self {
        ModelTest::new()
    }
}

impl ModelTest {
    /// 256 cases (or `PROPTEST_CASES`) of 1 to 32 ops, no regression file.
    pub fn new() -> ModelTest {
        ModelTest {
            cases: Config::default().cases,
            steps: 1..32,
            source_file: None,
        }
    }

    /// How many cases to run.
    #[must_use]
    pub fn cases(mut self, cases: u32) -> ModelTest {
        self.cases = cases;
        self
    }

    /// How many ops a case has (a range; shrinking goes towards its start).
    #[must_use]
    pub fn steps(mut self, steps: Range<usize>) -> ModelTest {
        self.steps = steps;
        self
    }

    /// Keeps failing cases in `<file>.proptest-regressions` beside the test (pass
    /// `file!()`), and replays them first on later runs, as `proptest!` does.
    #[must_use]
    pub fn regressions(mut self, source_file: &'static str) -> ModelTest {
        self.source_file = Some(source_file);
        self
    }

    /// Runs the cases.
    ///
    /// # Panics
    /// If a case fails: with the minimal failing setup and ops, and the step that failed.
    pub fn run<S: StateMachine>(self) {
        let mut config = Config::with_cases(self.cases);
        config.source_file = self.source_file;
        config.failure_persistence = self.source_file.map(|_| {
            Box::new(FileFailurePersistence::SourceParallel(
                "proptest-regressions",
            )) as _
        });
        let mut runner = TestRunner::new(config);
        let strategy = (S::setup(), vec(S::op(), self.steps));
        let result = runner.run(&strategy, |(setup, ops)| {
            let rt = crate::paused_runtime();
            rt.block_on(run_case::<S>(setup, ops))
        });
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, (setup, ops))) => panic!(
                "the model and the system disagree: {}\nminimal case:\n  setup: {setup:?}\n  ops: {ops:?}",
                why.message()
            ),
            Err(TestError::Abort(why)) => panic!("the model test gave up: {why}"),
        }
    }
}

impl ModelTest {
    /// Runs one given case (a setup and its ops) on a fresh paused runtime: to pin a case
    /// a run once found as a plain regression test.
    ///
    /// # Panics
    /// If the system and the model disagree.
    pub fn replay<S: StateMachine>(setup: S::Setup, ops: Vec<S::Op>) {
        let rt = crate::paused_runtime();
        if let Err(why) = rt.block_on(run_case::<S>(setup.clone(), ops.clone())) {
            let why = reason(&why);
            panic!(
                "the model and the system disagree: {why}\ncase:\n  setup: {setup:?}\n  ops: {ops:?}"
            );
        }
    }
}

async fn run_case<S: StateMachine>(setup: S::Setup, ops: Vec<S::Op>) -> Result<(), TestCaseError> {
    let (mut model, mut system) = S::start(setup).await?;
    let checked = async {
        model
            .check(&system)
            .await
            .map_err(|e| TestCaseError::fail(format!("after start: {}", reason(&e))))?;
        for (i, op) in ops.into_iter().enumerate() {
            if model.finished() {
                break;
            }
            let shown = format!("{op:?}");
            model
                .apply(&mut system, op)
                .await
                .map_err(|e| TestCaseError::fail(format!("op #{i} ({shown}): {}", reason(&e))))?;
            model.check(&system).await.map_err(|e| {
                TestCaseError::fail(format!("after op #{i} ({shown}): {}", reason(&e)))
            })?;
        }
        Ok(())
    }
    .await;
    model.stop(system).await;
    checked
}

/// A case error's text without proptest's "Case failed: " prefix.
fn reason(e: &TestCaseError) -> String {
    match e {
        TestCaseError::Fail(why) => why.message().to_string(),
        TestCaseError::Reject(why) => format!("rejected: {}", why.message()),
    }
}
