//! Prompt-cache breakpoints for the kinds that take them (Anthropic `cache_control`, Bedrock
//! `cachePoint`; docs/wire/mapping.md §11).
//!
//! A translator records where each breakpoint the client asked for landed in its native body
//! ([`Marks`]); after serialising, [`Marks::apply_anthropic`] / [`Marks::apply_bedrock`] set
//! them. A breakpoint on any part of a message is placed after the last block that message
//! produced (a breakpoint caches everything before it, so this caches at most that message's
//! remaining parts more). Anthropic takes at most four: the last four are kept (they cover the
//! longest prefixes). With `prompt_cache: auto` on the provider and no breakpoint from the
//! client, the gateway sets three: after the tools, after the system prompt and after the last
//! user turn.

use crate::error::GatewayError;
use crate::translate::cache::CacheControl;
use serde_json::{Value, json};

/// Where a breakpoint goes in the native body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spot {
    /// After `system[i]`.
    System(usize),
    /// After `messages[turn].content[block]`.
    Message { turn: usize, block: usize },
    /// After `tools[i]`.
    Tool(usize),
}

/// The most breakpoints Anthropic accepts in one request.
pub const MAX_BREAKPOINTS: usize = 4;

/// The breakpoints of one request, in body order.
#[derive(Debug, Default)]
pub struct Marks {
    spots: Vec<(Spot, CacheControl<'static>)>,
}

impl Marks {
    /// Records a breakpoint.
    pub fn push(&mut self, spot: Spot, cc: &CacheControl<'_>) {
        self.spots.push((spot, cc.to_owned_static()));
    }

    /// Moves every message breakpoint `n` turns later (turns were inserted in front).
    pub fn shift_turns(&mut self, n: usize) {
        for (spot, _) in &mut self.spots {
            if let Spot::Message { turn, .. } = spot {
                *turn += n;
            }
        }
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.spots.is_empty()
    }

    /// The gateway's own breakpoints (`prompt_cache: auto`): after the last tool, the last
    /// system block and the last block of the last user turn.
    pub fn auto(tools: usize, system: usize, last_user: Option<(usize, usize)>) -> Marks {
        let cc = CacheControl::ephemeral();
        let mut m = Marks::default();
        if tools > 0 {
            m.push(Spot::Tool(tools - 1), &cc);
        }
        if system > 0 {
            m.push(Spot::System(system - 1), &cc);
        }
        if let Some((turn, block)) = last_user {
            m.push(Spot::Message { turn, block }, &cc);
        }
        m
    }

    /// The breakpoints Anthropic will take: the last [`MAX_BREAKPOINTS`] in prefix order
    /// (tools, then system, then messages).
    fn kept(&self) -> Vec<(Spot, &CacheControl<'static>)> {
        let order = |s: &Spot| match *s {
            Spot::Tool(i) => (0, i, 0),
            Spot::System(i) => (1, i, 0),
            Spot::Message { turn, block } => (2, turn, block),
        };
        let mut all: Vec<(Spot, &CacheControl<'static>)> =
            self.spots.iter().map(|(s, c)| (*s, c)).collect();
        all.sort_by_key(|(s, _)| order(s));
        all.dedup_by_key(|(s, _)| *s);
        let skip = all.len().saturating_sub(MAX_BREAKPOINTS);
        all.split_off(skip)
    }

    /// Sets `cache_control` on the marked blocks of an Anthropic Messages body.
    pub fn apply_anthropic(&self, body: &[u8]) -> Result<Vec<u8>, GatewayError> {
        let mut v: Value = serde_json::from_slice(body).map_err(|_| GatewayError::internal())?;
        for (spot, cc) in self.kept() {
            let target = match spot {
                Spot::System(i) => v.pointer_mut(&format!("/system/{i}")),
                Spot::Tool(i) => v.pointer_mut(&format!("/tools/{i}")),
                Spot::Message { turn, block } => {
                    v.pointer_mut(&format!("/messages/{turn}/content/{block}"))
                }
            };
            if let Some(Value::Object(o)) = target {
                o.insert("cache_control".into(), json!(cc));
            }
        }
        serde_json::to_vec(&v).map_err(|_| GatewayError::internal())
    }

    /// Inserts a `cachePoint` after each marked block of a Converse body.
    pub fn apply_bedrock(&self, body: &[u8]) -> Result<Vec<u8>, GatewayError> {
        let mut v: Value = serde_json::from_slice(body).map_err(|_| GatewayError::internal())?;
        let point = json!({"cachePoint": {"type": "default"}});
        // Back to front, so earlier insertions do not move later spots.
        for (spot, _) in self.kept().into_iter().rev() {
            let (array, at) = match spot {
                Spot::System(i) => (v.pointer_mut("/system"), i),
                Spot::Tool(i) => (v.pointer_mut("/toolConfig/tools"), i),
                Spot::Message { turn, block } => {
                    (v.pointer_mut(&format!("/messages/{turn}/content")), block)
                }
            };
            if let Some(Value::Array(a)) = array {
                if at < a.len() {
                    a.insert(at + 1, point.clone());
                }
            }
        }
        serde_json::to_vec(&v).map_err(|_| GatewayError::internal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_keeps_the_last_four() {
        let cc = CacheControl::ephemeral();
        let mut m = Marks::default();
        for turn in 0..4 {
            m.push(Spot::Message { turn, block: 0 }, &cc);
        }
        m.push(Spot::System(0), &cc);
        m.push(Spot::Tool(0), &cc);
        let body = json!({
            "tools": [{"name": "f"}],
            "system": [{"type": "text", "text": "s"}],
            "messages": (0..4).map(|_| json!({"role": "user", "content": [{"type": "text", "text": "x"}]})).collect::<Vec<_>>()
        });
        let out: Value =
            serde_json::from_slice(&m.apply_anthropic(body.to_string().as_bytes()).unwrap())
                .unwrap();
        // Tools and system come first in the prefix: those two are dropped.
        assert!(out["tools"][0].get("cache_control").is_none());
        assert!(out["system"][0].get("cache_control").is_none());
        for turn in 0..4 {
            assert_eq!(
                out["messages"][turn]["content"][0]["cache_control"],
                json!({"type": "ephemeral"})
            );
        }
    }

    #[test]
    fn bedrock_cache_points_follow_their_blocks() {
        let m = Marks::auto(2, 1, Some((1, 1)));
        let body = json!({
            "system": [{"text": "s"}],
            "toolConfig": {"tools": [{"toolSpec": {"name": "a"}}, {"toolSpec": {"name": "b"}}]},
            "messages": [
                {"role": "user", "content": [{"text": "q"}]},
                {"role": "user", "content": [{"text": "a"}, {"text": "b"}]}
            ]
        });
        let out: Value =
            serde_json::from_slice(&m.apply_bedrock(body.to_string().as_bytes()).unwrap()).unwrap();
        let point = json!({"cachePoint": {"type": "default"}});
        assert_eq!(out["system"][1], point);
        assert_eq!(out["toolConfig"]["tools"][2], point);
        assert_eq!(out["toolConfig"]["tools"][1]["toolSpec"]["name"], "b");
        assert_eq!(out["messages"][1]["content"][2], point);
        assert_eq!(out["messages"][0]["content"].as_array().unwrap().len(), 1);
    }
}
