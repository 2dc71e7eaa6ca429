//! Six benchmarks of the Savina suite (Imam and Sarkar, "Savina – An Actor Benchmark
//! Suite", AGERE 2014), for every implementation, with the paper's parameters: ping-pong,
//! counting, fork-join throughput, thread ring, chameneos and big. Published Akka, CAF and
//! Pony runs of the same programs (e.g. Blessing et al., "Run, Actor, Run", AGERE 2019)
//! can be set beside these figures; each program follows the suite's description, and
//! each asserts its result.
//!
//! Parameters (Savina's defaults, `*Config.java`): ping-pong N = 40,000 round trips;
//! counting N = 1,000,000 messages; fork-join throughput A = 60 actors x N = 10,000
//! messages, each computing `sin(37.2)^2`; thread ring N = 100 actors, R = 100,000 hops;
//! chameneos C = 100 chameneos, M = 200,000 meetings; big W = 120 actors x N = 20,000
//! pings to random neighbours, each answered by a pong. Run on the harness's runtimes (2
//! workers on this 2-core machine); the `scale` option scales the message counts, never
//! the actor counts.

#[macro_use]
mod programs;

pub mod actix;
pub mod ensemble;
pub mod kameo;
pub mod ractor;
pub mod raw;

/// One benchmark of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bench {
    /// Two actors, N round trips.
    PingPong,
    /// One producer, one counter, N messages, then the count is asked.
    Counting,
    /// A actors, N messages each sent round-robin, each a little computation.
    ForkJoin,
    /// N actors in a ring, a token passed R times.
    ThreadRing,
    /// C chameneos meet M times through a broker (the mall), changing colours.
    Chameneos,
    /// W actors each ping random neighbours N times, each ping answered by a pong.
    Big,
}

/// The suite's parameters at a scale (1.0 = the paper's).
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Ping-pong round trips.
    pub pingpong_n: u64,
    /// Counting messages.
    pub count_n: u64,
    /// Fork-join actors.
    pub fj_actors: u64,
    /// Fork-join messages per actor.
    pub fj_n: u64,
    /// Thread-ring actors.
    pub ring_actors: u64,
    /// Thread-ring hops.
    pub ring_hops: u64,
    /// Chameneos.
    pub chameneos: u64,
    /// Chameneos meetings.
    pub meetings: u64,
    /// Big actors.
    pub big_actors: u64,
    /// Big pings per actor.
    pub big_pings: u64,
}

impl Params {
    /// The paper's parameters with every message count scaled by `scale`.
    pub fn scaled(scale: f64) -> Params {
        let n = |full: u64| ((full as f64 * scale) as u64).max(10);
        Params {
            pingpong_n: n(40_000),
            count_n: n(1_000_000),
            fj_actors: 60,
            fj_n: n(10_000),
            ring_actors: 100,
            ring_hops: n(100_000),
            chameneos: 100,
            meetings: n(200_000),
            big_actors: 120,
            big_pings: n(20_000),
        }
    }
}

/// Fork-join's work per message: Savina's `performComputation(37.2)`.
#[inline]
pub fn compute() -> f64 {
    let s = std::hint::black_box(37.2f64).sin();
    let r = s * s;
    assert!(r > 0.0, "unrealistic result");
    r
}

/// A chameneo's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// Red.
    Red,
    /// Yellow.
    Yellow,
    /// Blue.
    Blue,
}

impl Colour {
    /// The colour after meeting `other` (the same if equal, else the third).
    pub fn complement(self, other: Colour) -> Colour {
        use Colour::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Red, Yellow) | (Yellow, Red) => Blue,
            (Red, Blue) | (Blue, Red) => Yellow,
            _ => Red,
        }
    }

    /// The `i`th chameneo's starting colour.
    pub fn nth(i: u64) -> Colour {
        [Colour::Red, Colour::Yellow, Colour::Blue][(i % 3) as usize]
    }
}

/// Big's neighbour choice: a small generator per actor, seeded by its index.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The generator of actor `i`.
    pub fn new(i: u64) -> Rng {
        Rng(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    /// A neighbour of `me` among `n` actors (never `me`).
    pub fn neighbour(&mut self, me: u64, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let k = self.0 % (n - 1);
        if k >= me { k + 1 } else { k }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_are_others_and_colours_complement() {
        let mut r = Rng::new(3);
        for _ in 0..1000 {
            let k = r.neighbour(3, 5);
            assert!(k < 5 && k != 3);
        }
        assert_eq!(Colour::Red.complement(Colour::Red), Colour::Red);
        assert_eq!(Colour::Red.complement(Colour::Blue), Colour::Yellow);
        assert_eq!(Colour::Blue.complement(Colour::Yellow), Colour::Red);
    }
}
