//! The README example: a counter you `cast` to and `call`.
//! Run it with `cargo run --example counter`.
use ensemble::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

enum Msg {
    Add(i64),
    Get(RpcReplyPort<i64>),
}

struct Counter;

impl Actor for Counter {
    type Msg = Msg;
    type State = i64;
    type Arguments = i64;

    async fn pre_start(&self, _: ActorRef<Msg>, start: i64) -> Result<i64, ActorProcessingErr> {
        Ok(start)
    }

    async fn handle(
        &self,
        _: ActorRef<Msg>,
        msg: Msg,
        n: &mut i64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Msg::Add(k) => *n += k,
            Msg::Get(reply) => reply.send(*n)?,
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (counter, handle) = Actor::spawn(None, Counter, 0).await?;
    counter.cast(Msg::Add(40))?;
    counter.cast(Msg::Add(2))?;
    println!("total = {}", counter.call(Msg::Get, None).await?);
    counter.stop(None);
    Ok(handle.await?)
}
