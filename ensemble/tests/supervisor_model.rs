//! A model test of the Supervisor: random sequences of child failures, normal exits,
//! kills, dynamic child operations and time steps, checked after every step against a
//! small model of the OTP rules (restart types, strategies, intensity). It runs on the
//! test kit's `StateMachine` (`ensemble_test::model`): each case on its own paused
//! runtime, so runs are deterministic and sleep-free.

mod common;

use std::time::Duration;

use common::{Log, Work, Worker};
use ensemble::supervisor::{
    ChildSpec, Restart, Strategy as RestartStrategy, Supervisor, SupervisorError, SupervisorFlags,
    SupervisorMsg, SupervisorSpec,
};
use ensemble::{ActorRef, ActorStatus, Shutdown};
use ensemble_test::model::{ModelTest, StateMachine};
use proptest::prelude::*;

const PERIOD_MS: u64 = 5_000;

#[derive(Debug, Clone)]
enum Op {
    Fail(usize),
    Stop(usize),
    Kill(usize),
    Start(Restart),
    Terminate(usize),
    Restart(usize),
    Delete(usize),
    Advance(u64),
}

#[derive(Debug, Clone, PartialEq)]
struct ModelChild {
    id: String,
    restart: Restart,
    running: bool,
    restarts: u32,
}

#[derive(Debug)]
struct Model {
    strategy: RestartStrategy,
    max_restarts: u32,
    children: Vec<ModelChild>,
    restart_times: Vec<u64>,
    now: u64,
    alive: bool,
}

impl Model {
    /// Child `i` ended; `abnormal` if it failed or was killed.
    fn child_ended(&mut self, i: usize, abnormal: bool) {
        self.children[i].running = false;
        let restart = match self.children[i].restart {
            Restart::Permanent => true,
            Restart::Transient => abnormal,
            _ => false,
        };
        if !restart {
            // Temporary children leave; a transient child's spec stays, stopped.
            if self.children[i].restart == Restart::Temporary {
                self.children.remove(i);
            }
            return;
        }
        // Intensity: more than `max_restarts` within the period fails the supervisor,
        // which shuts every child down.
        let now = self.now;
        self.restart_times.push(now);
        // OTP's window is inclusive (`inPeriod`: Now - Then =< Period): a restart exactly
        // one period old still counts.
        self.restart_times.retain(|t| now - t <= PERIOD_MS);
        if self.restart_times.len() > self.max_restarts as usize {
            self.alive = false;
            return;
        }
        // The group the strategy restarts.
        let failed = self.children[i].id.clone();
        let group: Vec<String> = match self.strategy {
            RestartStrategy::OneForOne => vec![failed.clone()],
            RestartStrategy::OneForAll => self.children.iter().map(|c| c.id.clone()).collect(),
            _ => self.children[i..].iter().map(|c| c.id.clone()).collect(),
        };
        // The group is shut down; its temporary members leave; the rest (including
        // members that were already stopped) start again, each counting a restart.
        self.children.retain(|c| {
            !(group.contains(&c.id) && c.restart == Restart::Temporary && c.id != failed)
        });
        for c in self.children.iter_mut().filter(|c| group.contains(&c.id)) {
            c.running = true;
            c.restarts += 1;
        }
    }
}

fn op_strategy() -> impl proptest::strategy::Strategy<Value = Op> {
    let restart = prop_oneof![
        Just(Restart::Permanent),
        Just(Restart::Transient),
        Just(Restart::Temporary)
    ];
    prop_oneof![
        4 => (0..6usize).prop_map(Op::Fail),
        2 => (0..6usize).prop_map(Op::Stop),
        2 => (0..6usize).prop_map(Op::Kill),
        1 => restart.prop_map(Op::Start),
        1 => (0..6usize).prop_map(Op::Terminate),
        1 => (0..6usize).prop_map(Op::Restart),
        1 => (0..6usize).prop_map(Op::Delete),
        2 => (0..7_000u64).prop_map(Op::Advance),
    ]
}

fn spec_for(id: &str, restart: Restart, log: &Log) -> ChildSpec {
    let (id2, log) = (id.to_string(), log.clone());
    ChildSpec::new(id, move || (Worker::new(&id2, &log), ()))
        .restart(restart)
        .shutdown(Shutdown::Brutal)
}

async fn check(sup: &ActorRef<SupervisorMsg>, model: &Model) -> Result<(), TestCaseError> {
    if !model.alive {
        // Paused time: this bound passes at once if the supervisor is wrongly alive.
        let ended = sup.wait(Some(Duration::from_secs(60))).await;
        prop_assert!(ended.is_ok(), "the supervisor should have failed");
        prop_assert_eq!(sup.status(), ActorStatus::Stopped);
        return Ok(());
    }
    prop_assert_eq!(sup.status(), ActorStatus::Running);
    let real = sup
        .which_children()
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let real: Vec<(String, bool, u32)> = real
        .iter()
        .map(|c| (c.id.clone(), c.cell.is_some(), c.restarts))
        .collect();
    let want: Vec<(String, bool, u32)> = model
        .children
        .iter()
        .map(|c| (c.id.clone(), c.running, c.restarts))
        .collect();
    prop_assert_eq!(real, want);
    Ok(())
}

/// The real system: the supervisor, its children's log, the next child id.
struct System {
    sup: ActorRef<SupervisorMsg>,
    log: Log,
    next_id: usize,
}

impl System {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("c{}", self.next_id - 1)
    }
}

type Setup = (RestartStrategy, u32, Vec<Restart>);

impl StateMachine for Model {
    type Setup = Setup;
    type Op = Op;
    type System = System;

    fn setup() -> impl proptest::strategy::Strategy<Value = Setup> {
        let restart = || {
            prop_oneof![
                Just(Restart::Permanent),
                Just(Restart::Transient),
                Just(Restart::Temporary)
            ]
        };
        (
            prop_oneof![
                Just(RestartStrategy::OneForOne),
                Just(RestartStrategy::OneForAll),
                Just(RestartStrategy::RestForOne)
            ],
            0u32..4,
            proptest::collection::vec(restart(), 1..5),
        )
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        op_strategy()
    }

    async fn start(
        (strategy, max_restarts, initial): Setup,
    ) -> Result<(Model, System), TestCaseError> {
        let log = Log::default();
        let mut model = Model {
            strategy,
            max_restarts,
            children: Vec::new(),
            restart_times: Vec::new(),
            now: 0,
            alive: true,
        };
        let mut spec = SupervisorSpec::new(
            SupervisorFlags::new(strategy)
                .intensity(max_restarts, Duration::from_millis(PERIOD_MS)),
        );
        for (next_id, r) in initial.into_iter().enumerate() {
            let id = format!("c{next_id}");
            spec = spec.child(spec_for(&id, r, &log));
            model.children.push(ModelChild {
                id,
                restart: r,
                running: true,
                restarts: 0,
            });
        }
        let next_id = model.children.len();
        let (sup, _) = Supervisor::start(None, spec)
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        Ok((model, System { sup, log, next_id }))
    }

    async fn apply(&mut self, system: &mut System, op: Op) -> Result<(), TestCaseError> {
        let model = self;
        let sup = system.sup.clone();
        let n = model.children.len();
        match op {
            Op::Fail(k) | Op::Stop(k) | Op::Kill(k) => {
                if n == 0 || !model.children[k % n].running {
                    return Ok(());
                }
                let i = k % n;
                let cell = sup.which_children().await.unwrap()[i].cell.clone().unwrap();
                let child: ActorRef<Work> = cell.clone().into_ref().unwrap();
                let abnormal = match op {
                    Op::Fail(_) => {
                        let _ = child.cast(Work::Fail("model".into()));
                        true
                    }
                    Op::Stop(_) => {
                        child.stop(None);
                        false
                    }
                    _ => {
                        child.kill();
                        true
                    }
                };
                cell.wait(None).await.unwrap();
                model.child_ended(i, abnormal);
            }
            Op::Start(r) => {
                let id = system.new_id();
                sup.start_child(spec_for(&id, r, &system.log))
                    .await
                    .unwrap();
                model.children.push(ModelChild {
                    id,
                    restart: r,
                    running: true,
                    restarts: 0,
                });
            }
            Op::Terminate(k) if n > 0 => {
                let i = k % n;
                sup.terminate_child(model.children[i].id.clone())
                    .await
                    .unwrap();
                model.children[i].running = false;
                if model.children[i].restart == Restart::Temporary {
                    model.children.remove(i);
                }
            }
            Op::Restart(k) if n > 0 => {
                let i = k % n;
                let result = sup.restart_child(model.children[i].id.clone()).await;
                if model.children[i].running {
                    prop_assert!(matches!(result, Err(SupervisorError::Running(_))));
                } else {
                    prop_assert!(result.is_ok());
                    model.children[i].running = true;
                }
            }
            Op::Delete(k) if n > 0 => {
                let i = k % n;
                let result = sup.delete_child(model.children[i].id.clone()).await;
                if model.children[i].running {
                    prop_assert!(matches!(result, Err(SupervisorError::Running(_))));
                } else {
                    prop_assert!(result.is_ok());
                    model.children.remove(i);
                }
            }
            Op::Advance(ms) => {
                tokio::time::advance(Duration::from_millis(ms)).await;
                model.now += ms;
            }
            _ => {}
        }
        Ok(())
    }

    async fn check(&self, system: &System) -> Result<(), TestCaseError> {
        check(&system.sup, self).await
    }

    fn finished(&self) -> bool {
        !self.alive
    }

    async fn stop(self, system: System) {
        system.sup.stop(None);
        system.sup.wait(None).await.ok();
    }
}

#[test]
fn supervisor_matches_the_otp_model() {
    ModelTest::new()
        .cases(1000)
        .steps(1..25)
        .regressions(file!())
        .run::<Model>();
}

/// A case the model once caught (the inclusive intensity window: two failures exactly
/// one period apart exceed an intensity of one).
#[test]
fn two_failures_exactly_one_period_apart_exceed_intensity_one() {
    ModelTest::replay::<Model>(
        (RestartStrategy::OneForOne, 1, vec![Restart::Permanent]),
        vec![Op::Fail(0), Op::Advance(PERIOD_MS), Op::Fail(0)],
    );
}
